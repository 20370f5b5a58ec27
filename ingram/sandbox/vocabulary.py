"""Word lists the fake catalog draws from: vendors, categories, warehouses, flags.

Kept apart from the generator so adding a vendor or a category is a data edit.
Vendors sell only plausible categories, so a DELL product is never a UPS.
"""

VENDORS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # (name, vendorNumber, vendor part number prefix, categories it sells)
    ("DELL", "802U", "DL", ("Computers", "Displays", "Accessories")),
    ("LENOVO", "0000500082", "20", ("Computers", "Displays", "Accessories")),
    ("HP INC", "1HP0", "HP", ("Computers", "Displays", "Accessories")),
    ("CISCO", "7C15", "C9", ("Networking",)),
    ("APC", "0A9C", "SMT", ("Power",)),
    ("LOGITECH", "L0G1", "910-", ("Accessories",)),
    ("SAMSUNG", "5AM5", "MZ-", ("Displays", "Storage")),
    ("MICROSOFT", "MSFT", "QW", ("Computers", "Accessories")),
    ("NETGEAR", "N3TG", "GS", ("Networking",)),
    ("KINGSTON", "K1NG", "KVR", ("Storage",)),
)

CATEGORIES: dict[str, tuple[str, ...]] = {
    "Computers": ("Notebooks & Tablets", "Desktops", "Servers"),
    "Displays": ("Monitors", "Projectors"),
    "Networking": ("Switches", "Wireless Access Points", "Routers"),
    "Power": ("UPS", "Surge Protectors"),
    "Accessories": ("Keyboards & Mice", "Headsets", "Cables"),
    "Storage": ("Solid State Drives", "Flash Memory Devices", "Memory Modules"),
}

WAREHOUSES: tuple[tuple[int, str], ...] = (
    (10, "Mira Loma, CA"),
    (20, "Fort Worth, TX"),
    (30, "Millington, TN"),
    (40, "Carol Stream, IL"),
    (80, "Jonestown, PA"),
    (5, "Buffalo, NY"),
    (25, "Memphis, TN"),
)

MODEL_LETTERS = "ABCDEFGHKMNPRSTX"
ADJECTIVES = ("PRO", "BUSINESS", "ULTRA", "COMPACT", "ELITE", "ESSENTIAL", "SMART", "RUGGED")
SPEC_VALUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Product Type", ("Notebook", "Monitor", "Switch", "UPS", "Keyboard", "SSD")),
    ("Product Color", ("Black", "Mineral Gray", "Silver", "White")),
    ("Limited Warranty Duration", ("1 Year", "3 Year", "5 Year")),
    ("Energy Star", ("Yes", "No")),
    ("Total Number of USB Ports", ("1", "2", "3", "4")),
    ("Weight (Approximate)", ("0.45 kg", "1.70 kg", "4.20 kg", "12.00 kg")),
    ("Country of Origin", ("China", "Mexico", "Malaysia", "Vietnam")),
)

INDICATOR_FLAGS: tuple[str, ...] = (
    "hasWarranty",
    "isNewProduct",
    "hasReturnLimits",
    "isBackOrderAllowed",
    "isShippedFromPartner",
    "isReplacementProduct",
    "isDirectship",
    "isDownloadable",
    "isDigitalType",
    "hasStdSpecialPrice",
    "hasSpecialBid",
    "isDiscontinuedProduct",
    "isRefurbished",
    "isReturnableProduct",
    "isIngramShip",
    "isEnduserRequired",
    "isHeavyWeight",
    "hasLtl",
    "isClearanceProduct",
    "hasBundle",
    "isOversizeProduct",
    "isPreorderProduct",
    "isLicenseProduct",
    "isDirectshipOrderable",
    "isServiceSku",
    "isConfigurable",
)
