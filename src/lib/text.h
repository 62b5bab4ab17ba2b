/*
 * text.h - the one line and word splitter of the text formats stubd reads:
 * stubd.conf, hosts files, resolv.conf and control request lines.
 *
 * Pure, no allocation: lines are copied into a caller's buffer, words are
 * split in place.
 */
#ifndef STUBD_TEXT_H
#define STUBD_TEXT_H

#include <stdbool.h>
#include <stddef.h>

enum text_line {
	TEXT_LINE_OK = 0, /* a line is in the buffer */
	TEXT_LINE_END,    /* no more lines */
	TEXT_LINE_LONG,   /* the line does not fit the buffer; skipped */
	TEXT_LINE_NUL,    /* the line holds a NUL byte; skipped */
};

struct text_lines {
	const char *text;
	size_t len;
	size_t pos;
	unsigned lineno; /* number of the line last returned (1-based) */
};

void text_lines_init(struct text_lines *it, const char *text, size_t len);
/* The next line, newline removed, NUL-terminated in buf[cap]. */
enum text_line text_next_line(struct text_lines *it, char *buf, size_t cap);

/*
 * Split s in place into words separated by blanks (space, tab, CR).  With
 * comments, '#' ends the line wherever it appears.  Returns the number of
 * words, or -1 when there are more than max.
 */
int text_words(char *s, char **w, int max, bool comments);

/*
 * Decode base64 (standard or URL-safe alphabet, padding optional) into
 * out[cap].  Returns the number of bytes, or -1 for bad input or no room.
 */
long text_base64(const char *s, unsigned char *out, size_t cap);

#endif
