"""The vendor's published example answers, as JSON text (shared by the parser, shop-field and
product-key tests)."""

# Copied from vendor/ingram-openapi/reseller-catalog-v6.yaml. Numbers are written as JSON text
# and decoded with ``loads`` (floats as Decimal), as the client does. The spec's bare
# ``upc: 0884116186519`` is not valid JSON (leading zero); it is kept as the string YAML 1.1
# reads it as.

PA_200_EXAMPLE = """
[{"productStatusMessage": "ACOPS ARE AVAILABLE FOR THIS CUSTOMER AND SKU",
  "ingramPartNumber": "4A0036", "vendorPartNumber": "E2016HV",
  "extendedVendorPartNumber": "E2016HV", "upc": "0884116186519", "vendorNumber": "802U",
  "vendorName": "DELL", "description": "20IN MONITOR E2016HV 210-AGLU  MNTR",
  "productClass": "B", "uom": "EA", "acceptBackOrder": true, "productAuthorized": true,
  "returnableProduct": true, "endUserInfoRequired": false, "govtSpecialPriceAvailable": true,
  "availability": {"available": false, "totalAvailability": 0, "availabilityByWarehouse": [
      {"warehouseId": 20, "location": "Fort Worth, TX", "quantityBackordered": 0,
       "backOrderInfo": [{"quantity": 1437, "etaDate": "2025-01-01"},
                         {"quantity": 8163, "etaDate": "2026-01-01"}]},
      {"quantityAvailable": 0, "warehouseId": 40, "location": "Carol Stream, IL",
       "quantityBackordered": 156},
      {"quantityAvailable": 0, "warehouseId": 80, "location": "Jonestown, PA",
       "quantityBackordered": 70},
      {"quantityAvailable": 0, "warehouseId": 10, "location": "Mira Loma, CA",
       "quantityBackordered": 576}]},
  "pricing": {"mapPrice": 0, "currencyCode": "USD", "retailPrice": 189.99, "customerPrice": 74.34},
  "discounts": [{"specialPricing": [{"specialPricingAvailableQuantity": 9999999,
      "specialPricingExpirationDate": "2023-12-31", "specialBidNumber": "TESTRKP1",
      "specialPricingMinQuantity": 0, "specialPricingEffectiveDate": "2022-03-24",
      "discountType": "Special Bid", "specialPricingDiscount": 6.74,
      "governmentDiscountType": "Federal", "governmentDiscountedCustomerPrice": 67.6}],
    "quantityDiscounts": [{"currencyType": "string", "amount": 0, "quantity": 0,
      "conditionType": "string", "currencyCode": "string"}]}],
  "bundlePartIndicator": "boolean",
  "serviceFees": [{"conditionType": "string", "description": "string", "amount": "decimal",
      "endDate": "2023-01-27", "currencyCode": "string"}]}]
"""

PA_207_EXAMPLE = """
[{"productStatusMessage": "ACOPS ARE AVAILABLE FOR THIS CUSTOMER AND SKU",
  "ingramPartNumber": "123512", "vendorPartNumber": "LS1016A-CISCO",
  "customerPartNumber": "A5-8963TEST", "upc": "0718908728116", "partNumberType": "T",
  "vendorNumber": "1234", "vendorName": "INTERNAL",
  "description": "6FT PARALLEL PRINTER DB25M TO  SVCS CENT36M PRO SERIES 28AWG ROHS",
  "productClass": "P", "uom": "EA", "acceptBackOrder": true, "productAuthorized": true,
  "returnableProduct": true, "endUserInfoRequired": true,
  "availability": {"available": true, "totalAvailability": 240479, "availabilityByWarehouse": [
      {"location": "Fort Worth, TX", "warehouseId": "20", "quantityAvailable": 105415},
      {"warehouseId": "25", "quantityAvailable": 100000},
      {"location": "Millington, TN", "warehouseId": "30", "quantityAvailable": 9981},
      {"location": "Carol Stream, IL", "warehouseId": "40", "quantityAvailable": 1049},
      {"location": "Jonestown, PA", "warehouseId": "80", "quantityAvailable": 995},
      {"location": "Mira Loma, CA", "warehouseId": "10", "quantityAvailable": 23039},
      {"warehouseId": "81"},
      {"warehouseId": "05"}],
    "pricing": {"currencyCode": "USD", "retailPrice": 10, "mapPrice": 540.25,
                "customerPrice": 5.43}}},
 {"productStatusCode": "E",
  "productStatusMessage": "Product not found for IngramPartNumber:  12351211",
  "ingramPartNumber": "12351211"}]
"""

DETAILS_EXAMPLE = """
{"ingramPartNumber": "5348387", "vendorPartNumber": "20VE0117MH", "productAuthorized": "True",
 "description": "TB 15 G2 CI5-1135G7 8/256GB 15.6 W11P", "upc": "196119831243",
 "productCategory": "Computers Test Duplicate", "productSubcategory": "Notebooks & Tablets",
 "vendorName": "Lenovo", "vendorNumber": "0000500082", "productStatusCode": null,
 "productClass": null,
 "indicators": {"hasWarranty": true, "isNewProduct": false, "skuType": "M",
                "replacementType": null, "isDiscontinuedProduct": true},
 "ciscoFields": {"productSubGroup": null, "globalListPrice": null},
 "warrantyInformation": [],
 "additionalInformation": {"productWeight": [{"plantId": "NL01", "weight": 2.6,
                                              "weightUnit": "KG"}],
   "isBulkFreight": false, "height": "8", "width": "31", "length": "50", "netWeight": null,
   "dimensionUnit": "CM"}}
"""

DETAILS_404_EXAMPLE = (
    '{"errors": [{"id": 123, "type": "Validation error", "message": "No Records Found"}]}'
)

SEARCH_EXAMPLE = """
{"recordsFound": 1180, "pageSize": 25, "pageNumber": 2,
 "catalog": [{"description": " CLASS 10 100MB/S UHS-I CARD", "category": "device storage",
   "subCategory": "Flash Memory Devices", "productType": "", "ingramPartNumber": "1A8249",
   "vendorPartNumber": "SDSQUNC-016G-AN6IA", "upcCode": "0619659134587",
   "vendorName": "Sandisk Mobile", "endUserRequired": "false", "hasDiscounts": "",
   "type": "IM::Physical", "authorizedToPurchase": "true",
   "links": [{"topic": "catalog", "href": "/catalog/1A8249", "type": "GET"}]}],
 "nextPage": "/resellers/v6/catalog?keyword=mobilepageSize=25&pageNumber=3",
 "previousPage": "/resellers/v6/catalog?keyword=mobilepageSize=25&pageNumber=1"}
"""
