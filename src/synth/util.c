/* synth: PRNG, calendar and string helpers. */
#include <math.h>
#include <string.h>

#include "synth/synth_int.h"

uint64_t pm__splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void pm__rng_seed(pm__rng_t *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t x = seed;
    uint64_t h = pm__splitmix64(&x);
    x = h ^ (a * 0xD6E8FEB86659FD93ull);
    h = pm__splitmix64(&x);
    x = h ^ (b * 0xA0761D6478BD642Full);
    h = pm__splitmix64(&x);
    x = h ^ (c * 0xE7037ED1A0B428DBull);
    for (int i = 0; i < 4; i++)
        r->s[i] = pm__splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t pm__rng_next(pm__rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t pm__rng_below(pm__rng_t *r, uint32_t n)
{
    uint64_t m = (pm__rng_next(r) >> 32) * (uint64_t)n;
    return (uint32_t)(m >> 32);
}

double pm__rng_unit(pm__rng_t *r)
{
    return (double)(pm__rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

int pm__rng_chance(pm__rng_t *r, double p)
{
    return pm__rng_unit(r) < p;
}

size_t pm__rng_weighted(pm__rng_t *r, const double *w, size_t n)
{
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += w[i];
    double x = pm__rng_unit(r) * total;
    for (size_t i = 0; i < n; i++) {
        if (x < w[i]) return i;
        x -= w[i];
    }
    return n - 1;
}

double pm__rng_exp(pm__rng_t *r, double mean)
{
    return -mean * log(1.0 - pm__rng_unit(r));
}

double pm__rng_normal(pm__rng_t *r, double mean, double sd)
{
    double s = 0;
    for (int i = 0; i < 6; i++)
        s += pm__rng_unit(r);
    return mean + (s - 3.0) * sd * 1.41421356; /* var of sum of 6 U(0,1) is 0.5 */
}

int pm__weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (3 when Monday = 0) */
    int64_t w = (days + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

int pm__days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

void pm__format_date(int64_t days, char out[11])
{
    int y, m, d;
    pm_civil_from_days(days, &y, &m, &d);
    out[0] = (char)('0' + (y / 1000) % 10);
    out[1] = (char)('0' + (y / 100) % 10);
    out[2] = (char)('0' + (y / 10) % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}

/* Day number of the n-th (1-based) Sunday of a month, or the last if n == 0. */
static int64_t nth_sunday(int y, int m, int n)
{
    if (n == 0) {
        int64_t last = pm_days_from_civil(y, m, pm__days_in_month(y, m));
        return last - (pm__weekday(last) + 1) % 7;
    }
    int64_t first = pm_days_from_civil(y, m, 1);
    int64_t sun = first + (6 - pm__weekday(first));
    return sun + 7 * (n - 1);
}

int pm__utc_offset(int std_offset_min, pm__dst_t dst, int64_t days, int hour)
{
    if (dst == PM__DST_NONE) return std_offset_min;
    int y, m, d;
    pm_civil_from_days(days, &y, &m, &d);
    int64_t start, end;
    if (dst == PM__DST_NA) {
        start = nth_sunday(y, 3, 2);
        end = nth_sunday(y, 11, 1);
        /* changes at 02:00 local; hours before that keep the old offset */
        if ((days > start || (days == start && hour >= 2)) &&
            (days < end || (days == end && hour < 1)))
            return std_offset_min + 60;
        return std_offset_min;
    }
    start = nth_sunday(y, 3, 0);
    end = nth_sunday(y, 10, 0);
    if ((days > start || (days == start && hour >= 2)) && (days < end || (days == end && hour < 2)))
        return std_offset_min + 60;
    return std_offset_min;
}

void pm__strlcpy(char *dst, const char *src, size_t cap)
{
    if (cap == 0) return;
    dst[0] = '\0';
    pm__strlcat(dst, src, cap);
}

void pm__strlcat(char *dst, const char *src, size_t cap)
{
    size_t dl = strnlen(dst, cap);
    if (dl >= cap) return;
    size_t n = strlen(src);
    if (dl + n >= cap) {
        n = cap - 1 - dl;
        /* do not cut a UTF-8 sequence */
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst + dl, src, n);
    dst[dl + n] = '\0';
}
