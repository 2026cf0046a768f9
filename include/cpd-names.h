/*
 * File names on the wire, shared by cpd and cpd-client (cpd-varlink(7),
 * "File names that are not UTF-8").
 *
 * JSON text is UTF-8; a file name is any bytes but NUL. A Copy call
 * with "escaped_names": true writes each of its names (sources,
 * destination, link_dest, clone_dest, filter patterns, backup_suffix)
 * in an escaped form, and the daemon writes them so in that job's
 * replies (the Job, its failures and messages, its changes): a
 * backslash is "\\", and a byte that is not part of a UTF-8 character
 * is "\xHH" (two hex digits). Nothing else is escaped; any other
 * backslash, and "\x00", are refused. A name that is UTF-8 without a
 * backslash reads the same either way.
 */
#ifndef CPD_NAMES_H
#define CPD_NAMES_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * The length of the UTF-8 character at s, in strict UTF-8 (no overlong
 * form, no surrogate, nothing above U+10FFFF), or 0 if there is none.
 */
static inline size_t
cpd_utf8_char(const unsigned char *s, size_t left)
{
	unsigned char	c = s[0];
	size_t		n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 :
			    c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 4;
	uint32_t	cp = n == 1 ? c & 0x1f : n == 2 ? c & 0x0f : c & 0x07;

	if (n == 4 || left - 1 < n)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n + 1;
}

static inline bool
cpd_utf8(const char *s, size_t len)
{
	for (size_t i = 0, n; i < len; i += n)
		if ((n = cpd_utf8_char((const unsigned char *)s + i, len - i)) == 0)
			return false;
	return true;
}

/* The escaped form of the name s: malloc'd, NULL when out of memory. */
static inline char *
cpd_name_escape(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t	 len = 0;
	char	*out, *o;

	while (s[len])
		len++;
	if ((o = out = malloc(len * 4 + 1)) == NULL)
		return NULL;
	for (size_t i = 0, n; i < len; i += n) {
		const unsigned char *u = (const unsigned char *)s + i;

		if ((n = cpd_utf8_char(u, len - i)) == 0) {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[*u >> 4];
			*o++ = hex[*u & 15];
			n = 1;
		} else if (*u == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else
			for (size_t k = 0; k < n; k++)
				*o++ = (char)u[k];
	}
	*o = '\0';
	return out;
}

static inline int
cpd_name_hexdigit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The name an escaped form stands for, into *out (malloc'd): 0 or -EINVAL, -ENOMEM. */
static inline int
cpd_name_unescape(const char *s, char **out)
{
	size_t	 len = 0;
	char	*o;
	int	 hi, lo;

	while (s[len])
		len++;
	if ((o = *out = malloc(len + 1)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\')
			*o++ = s[i];
		else if (s[i + 1] == '\\')
			*o++ = s[++i];
		else if (s[i + 1] == 'x' && (hi = cpd_name_hexdigit(s[i + 2])) >= 0 &&
		    (lo = cpd_name_hexdigit(s[i + 3])) >= 0 && (hi | lo) != 0) {
			*o++ = (char)(hi << 4 | lo);
			i += 3;
		} else {
			free(*out);
			*out = NULL;
			return -EINVAL;
		}
	}
	*o = '\0';
	return 0;
}

#endif
