"""Details documents as stored: JSON, zlib-compressed against a preset dictionary.

Most of a details document is the vendor's field names, the same in every answer.
Compressed alone, a document cannot share them with the next one; compressed
against a dictionary that holds them (the fields of the vendor's
``ProductDetailResponse``, and the spec table's), it takes ~43 % less room, so a
full sync writes that much less. A zlib stream names the dictionary it needs
(Adler-32 in its header), so a document stored without one, or with another, is
still read; a dictionary is therefore never edited, only added.

Example::

    blob = pack_document({"ingramPartNumber": "6YE881"})
    assert unpack_document(blob) == {"ingramPartNumber": "6YE881"}
"""

from __future__ import annotations

import json
import zlib
from typing import Any

DICTIONARY = (
    b'{"ingramPartNumber": null, "vendorPartNumber": null, "productAuthorized": null, '
    b'"description": null, "upc": null, "productCategory": null, '
    b'"productSubcategory": null, "vendorName": null, "vendorNumber": null, '
    b'"productStatusCode": null, "productClass": null, "customerPartNumber": null, '
    b'"indicators": {"hasWarranty": false, "isNewProduct": false, '
    b'"HasReturnLimits": false, "IsBackOrderAllowed": false, '
    b'"isShippedFromPartner": false, "isReplacementProduct": false, '
    b'"isDirectship": false, "isDownloadable": false, "isDigitalType": false, '
    b'"skuType": null, "hasStdSpecialPrice": false, "hasAcopSpecialPrice": false, '
    b'"hasAcopQuantityBreak": false, "hasStdWebDiscount": false, "hasSpecialBid": false, '
    b'"isExportableToCountry": false, "isDiscontinuedProduct": false, '
    b'"isRefurbishedProduct": false, "isReturnableProduct": false, "isIngramShip": false, '
    b'"isEnduserRequired": false, "isHeavyWeight": false, "hasLtl": false, '
    b'"isClearanceProduct": false, "hasBundle": false, "isOversizeProduct": false, '
    b'"isPreorderProduct": false, "isLicenseProduct": false, '
    b'"isDirectshipOrderable": false, "isServiceSku": false, "isConfigurable": false}, '
    b'"ciscoFields": {"productSubGroup": null, "serviceProgramName": null, '
    b'"itemCatalogCategory": null, "configurationIndicator": null, '
    b'"internalBusinessEntity": null, "itemType": null, "globalListPrice": null}, '
    b'"warrantyInformation": [null], '
    b'"additionalInformation": {"productWeight": [{"plantId": null, "weight": null, '
    b'"weightUnit": null}], "isBulkFreight": false, "height": null, "width": null, '
    b'"length": null, "netWeight": null, "dimensionUnit": null}, '
    b'"technicalSpecifications": [{"headername": "", "attributename": "", '
    b'"attributevalue": "", "attributedisplay": ""}]}'
)
DICTIONARIES = {zlib.adler32(DICTIONARY): DICTIONARY}  # by the Adler-32 a stream names
FDICT = 0x20  # zlib header flag: a preset dictionary was used


def pack_document(raw: dict[str, Any]) -> bytes:
    """The document as stored in ``product_documents.json_zlib``."""
    packer = zlib.compressobj(zdict=DICTIONARY)
    return packer.compress(json.dumps(raw, default=str).encode()) + packer.flush()


def unpack_document(blob: bytes) -> Any:
    """A stored document back as JSON, whichever dictionary (or none) it was packed with.

    Raises ``ValueError`` for a blob that is not a stored document.
    """
    try:
        if len(blob) < 6 or not blob[1] & FDICT:
            return json.loads(zlib.decompress(blob))
        dictionary = DICTIONARIES.get(int.from_bytes(blob[2:6], "big"))
        if dictionary is None:
            raise ValueError("a document packed with a dictionary this version does not know")
        unpacker = zlib.decompressobj(zdict=dictionary)
        return json.loads(unpacker.decompress(blob) + unpacker.flush())
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not a stored details document: {error}") from None
