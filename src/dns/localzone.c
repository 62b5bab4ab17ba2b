/*
 * localzone.c - locally served names (RFC 6761, RFC 6303, RFC 9462's
 * resolver.arpa).
 */
#include "auto-config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "localzone.h"

#define V4_REV ".in-addr.arpa"
#define V6_REV ".ip6.arpa"

static bool
ends_with(const char *t, size_t tl, const char *suffix)
{
	size_t sl = strlen(suffix);

	return tl >= sl && memcmp(t + tl - sl, suffix, sl) == 0;
}

/* The n-th label from the right of the first len bytes of t (text, dot
 * separated), as a decimal octet; -1 when absent or not one. */
static int
octet_from_right(const char *t, size_t len, unsigned n)
{
	size_t end = len, start;
	int v = 0;

	for (;;) {
		start = end;
		while (start > 0 && t[start - 1] != '.')
			start--;
		if (n == 0)
			break;
		if (start == 0)
			return -1;
		end = start - 1;
		n--;
	}
	if (end == start || end - start > 3)
		return -1;
	for (; start < end; start++) {
		if (t[start] < '0' || t[start] > '9')
			return -1;
		v = v * 10 + (t[start] - '0');
	}
	return v <= 255 ? v : -1;
}

/* The n-th nibble label from the right, or -1. */
static int
nibble_from_right(const char *t, size_t len, unsigned n)
{
	size_t i = len;
	unsigned k = 0;

	/* nibble labels are one character each: "x.y.z" */
	while (i > 0) {
		size_t s = i;

		while (s > 0 && t[s - 1] != '.')
			s--;
		if (k == n) {
			if (i - s != 1)
				return -1;
			if (t[s] >= '0' && t[s] <= '9')
				return t[s] - '0';
			if (t[s] >= 'a' && t[s] <= 'f')
				return t[s] - 'a' + 10;
			return -1;
		}
		if (s == 0)
			break;
		i = s - 1;
		k++;
	}
	return -1;
}

static bool
private_v4_reverse(const char *t, size_t len)
{
	int a = octet_from_right(t, len, 0), b = octet_from_right(t, len, 1);

	return a == 10 || a == 127 || (a == 172 && b >= 16 && b <= 31) || (a == 192 && b == 168) ||
	    (a == 169 && b == 254);
}

static bool
private_v6_reverse(const char *t, size_t len)
{
	int n1 = nibble_from_right(t, len, 0), n2 = nibble_from_right(t, len, 1);
	int n3 = nibble_from_right(t, len, 2);

	return (n1 == 0xf && n2 == 0xd) || (n1 == 0xf && n2 == 0xe && n3 >= 0x8 && n3 <= 0xb);
}

enum lz_kind
localzone_kind(const uint8_t *key, size_t klen)
{
	char t[WIRE_NAME_TEXT];
	size_t tl;
	static const char v6_loop[] =
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa";

	size_t i = 0, last = 0;
	unsigned labels = 0;

	if (!key || klen == 0 || klen > WIRE_NAME_MAX)
		return LZ_NONE;
	/* the common case cheaply: a name of two labels or more whose last is
	 * neither "localhost" nor "arpa" */
	while (i < klen && key[i] != 0) {
		last = i;
		labels++;
		i += (size_t)key[i] + 1;
	}
	if (i >= klen)
		return LZ_NONE;
	if (labels >= 2 && !(key[last] == 9 && memcmp(key + last + 1, "localhost", 9) == 0) &&
	    !(key[last] == 4 && memcmp(key + last + 1, "arpa", 4) == 0))
		return LZ_NONE;
	tl = wire_name_to_text(key, klen, t, sizeof(t));
	if (tl == 0)
		return LZ_NONE;
	if (strcmp(t, "localhost") == 0 || ends_with(t, tl, ".localhost"))
		return LZ_LOCALHOST;
	if (strcmp(t, "resolver.arpa") == 0 || ends_with(t, tl, ".resolver.arpa"))
		return LZ_RESOLVER_ARPA;
	if (strcmp(t, "1.0.0.127.in-addr.arpa") == 0 || strcmp(t, v6_loop) == 0)
		return LZ_LOOPBACK_PTR;
	if (ends_with(t, tl, V4_REV) && private_v4_reverse(t, tl - strlen(V4_REV)))
		return LZ_PRIVATE_REVERSE;
	if (ends_with(t, tl, V6_REV) && private_v6_reverse(t, tl - strlen(V6_REV)))
		return LZ_PRIVATE_REVERSE;
	if (wire_name_labels(key, klen) == 1)
		return LZ_SINGLE_LABEL;
	return LZ_NONE;
}

size_t
localzone_answer(const struct msg_query *q, enum lz_kind k, uint32_t ttl, size_t limit,
    uint8_t *out, size_t cap)
{
	static const uint8_t v4[4] = { 127, 0, 0, 1 };
	static const uint8_t v6[16] = { [15] = 1 };
	static const uint8_t localhost[] = "\011localhost"; /* with the root */
	struct msg_rr rr[2];
	size_t n = 0;

	if (!q || q->qlen == 0)
		return 0;
	switch (k) {
	case LZ_LOCALHOST:
		if (q->qtype == TYPE_A || q->qtype == TYPE_ANY)
			rr[n++] = (struct msg_rr){ TYPE_A, v4, sizeof(v4) };
		if (q->qtype == TYPE_AAAA || q->qtype == TYPE_ANY)
			rr[n++] = (struct msg_rr){ TYPE_AAAA, v6, sizeof(v6) };
		break;
	case LZ_LOOPBACK_PTR:
		if (q->qtype == TYPE_PTR || q->qtype == TYPE_ANY)
			rr[n++] = (struct msg_rr){ TYPE_PTR, localhost, sizeof(localhost) };
		break;
	case LZ_RESOLVER_ARPA: break;
	case LZ_PRIVATE_REVERSE:
	case LZ_SINGLE_LABEL: {
		size_t len = msg_error(q, RCODE_NXDOMAIN, out, cap);

		return len <= limit ? len : 0;
	}
	default: return 0;
	}
	return msg_synth(q, rr, n, ttl, limit, out, cap);
}

/* a: IPv4 address in host order */
static bool
private_v4(uint32_t a)
{
	return (a >> 24) == 10 || (a >> 24) == 127 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 ||
	    (a >> 16) == 0xa9fe || (a >> 22) == (100u << 2 | 1);
}

bool
localzone_private_addr(const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		return private_v4(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const uint8_t loop[16] = { [15] = 1 };
		static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

		if (memcmp(b, loop, 16) == 0 || (b[0] & 0xfe) == 0xfc ||
		    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80))
			return true;
		if (memcmp(b, mapped, 12) == 0)
			return private_v4((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
			    (uint32_t)b[14] << 8 | b[15]);
	}
	return false;
}
