/* Country and organisation codes: ISO 3166-1 alpha-3 (all 249 officially
 * assigned codes) and the ICAO 9303 Part 3 codes for nationality and issuing
 * authority that are not ISO country codes. */
#include <stdlib.h>
#include <string.h>

#include "perimeter/travel.h"

/* Sorted, so a binary search finds a code. */
static const char iso3166_alpha3[][4] = {
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA", "ATF",
    "ATG", "AUS", "AUT", "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS",
    "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL", "BRA", "BRB", "BRN", "BTN", "BVT", "BWA", "CAF",
    "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG", "COK", "COL", "COM", "CPV",
    "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM", "DZA",
    "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM",
    "GAB", "GBR", "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC", "GRD",
    "GRL", "GTM", "GUF", "GUM", "GUY", "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IMN",
    "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA", "JAM", "JEY", "JOR", "JPN", "KAZ",
    "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN", "LBR", "LBY", "LCA", "LIE",
    "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX",
    "MHL", "MKD", "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS",
    "MWI", "MYS", "MYT", "NAM", "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL",
    "NRU", "NZL", "OMN", "PAK", "PAN", "PCN", "PER", "PHL", "PLW", "PNG", "POL", "PRI", "PRK",
    "PRT", "PRY", "PSE", "PYF", "QAT", "REU", "ROU", "RUS", "RWA", "SAU", "SDN", "SEN", "SGP",
    "SGS", "SHN", "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR",
    "SVK", "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL",
    "TKM", "TLS", "TON", "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI", "URY",
    "USA", "UZB", "VAT", "VCT", "VEN", "VGB", "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "ZAF",
    "ZMB", "ZWE",
};

/* ICAO 9303 Part 3 codes usable as nationality or issuer besides ISO 3166-1:
 * British nationality classes, Kosovo, the United Nations and its agencies,
 * other organisations, and the stateless / refugee / unspecified codes. Sorted. */
static const char icao_extra[][4] = {
    "EUE", /* European Union (laissez-passer) */
    "GBD", /* British Overseas Territories Citizen */
    "GBN", /* British National (Overseas) */
    "GBO", /* British Overseas Citizen */
    "GBP", /* British Protected Person */
    "GBS", /* British Subject */
    "RKS", /* Kosovo (as used in travel documents) */
    "UNA", /* specialised agency of the United Nations */
    "UNK", /* resident of Kosovo, UN interim administration */
    "UNO", /* United Nations Organization */
    "XBA", /* African Development Bank */
    "XCC", /* Caribbean Community */
    "XCE", /* Council of Europe */
    "XCO", /* Common Market for Eastern and Southern Africa */
    "XDC", /* Southern African Development Community */
    "XEC", /* Economic Community of West African States */
    "XES", /* Organisation of Eastern Caribbean States */
    "XIM", /* African Export-Import Bank */
    "XOM", /* Sovereign Military Order of Malta */
    "XPO", /* International Criminal Police Organization */
    "XXA", /* stateless person (1954 Convention) */
    "XXB", /* refugee (1951 Convention) */
    "XXC", /* refugee (other than the 1951 Convention) */
    "XXX", /* person of unspecified nationality */
};

static int cmp3(const void *a, const void *b)
{
    return memcmp(a, b, 3);
}

static int in_table(const char *code, const char (*table)[4], size_t n)
{
    if (!code || strlen(code) != 3)
        return 0;
    return bsearch(code, table, n, sizeof table[0], cmp3) != NULL;
}

int pm_country_is_iso(const char *code)
{
    return in_table(code, iso3166_alpha3, sizeof iso3166_alpha3 / sizeof iso3166_alpha3[0]);
}

int pm_country_is_valid(const char *code)
{
    return pm_country_is_iso(code) ||
           in_table(code, icao_extra, sizeof icao_extra / sizeof icao_extra[0]);
}
