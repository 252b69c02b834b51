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
