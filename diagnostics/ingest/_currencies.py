"""Currency marks as they appear in exports, and the currency each names."""

from __future__ import annotations

# Currency marks as written (upper case) → the currency they name. "$" alone is read as the
# US dollar (the CRMs' own default); "kr" names several crowns and stays "kr".
CURRENCIES: dict[str, str] = {
    "€": "EUR", "EUR": "EUR", "EURO": "EUR", "EUROS": "EUR",
    "$": "USD", "USD": "USD", "US$": "USD", "US $": "USD",
    "£": "GBP", "GBP": "GBP",
    "CHF": "CHF", "FR.": "CHF", "SFR.": "CHF", "SFR": "CHF",
    "¥": "JPY", "JPY": "JPY", "CNY": "CNY", "RMB": "CNY", "元": "CNY",
    "₹": "INR", "INR": "INR", "RS": "INR", "RS.": "INR",
    "KR": "kr", "KR.": "kr", "SEK": "SEK", "NOK": "NOK", "DKK": "DKK",
    "ZŁ": "PLN", "PLN": "PLN", "KČ": "CZK", "CZK": "CZK", "FT": "HUF", "HUF": "HUF",
    "C$": "CAD", "CA$": "CAD", "CAD": "CAD", "A$": "AUD", "AU$": "AUD", "AUD": "AUD",
    "NZ$": "NZD", "NZD": "NZD", "R$": "BRL", "BRL": "BRL", "MX$": "MXN", "MXN": "MXN",
    "HK$": "HKD", "HKD": "HKD", "S$": "SGD", "SGD": "SGD", "ZAR": "ZAR",
    "₩": "KRW", "KRW": "KRW", "₽": "RUB", "RUB": "RUB", "₺": "TRY", "TRY": "TRY",
    "₪": "ILS", "ILS": "ILS", "AED": "AED", "SAR": "SAR",
}

# ISO 4217 codes in use: a currency column (Pipedrive's "Deal - Currency", Salesforce's
# "CurrencyIsoCode") names each deal's currency by one of these, or by a mark above.
ISO_CODES: frozenset[str] = frozenset({
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWL",
})

# A currency column's cell (upper case, spaces collapsed) → the currency it names.
CURRENCY_NAMES: dict[str, str] = {**{code: code for code in ISO_CODES}, **CURRENCIES}
