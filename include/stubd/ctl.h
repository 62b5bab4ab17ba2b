/*
 * stubd/ctl.h - the control protocol shared by stubd and stubctl.
 *
 * Transport: a Unix stream socket.  The client sends one line
 * "COMMAND [ARG...]\n" of at most CTL_LINE_MAX bytes (newline included);
 * the daemon answers with one JSON document and closes the connection.
 * Errors are {"error": "message"}.  See stubctl(8) for every command and
 * the keys of each answer.
 */
#ifndef STUBD_CTL_H
#define STUBD_CTL_H

#define CTL_LINE_MAX 1024          /* request line, newline included */
#define CTL_READ_TIMEOUT_MS 5000   /* daemon waits this long for the line */
#define CTL_REPLY_MAX (1024u * 1024u * 1024u)  /* stubctl refuses more */

/* command words */
#define CTL_DISPLAYDNS "displaydns"
#define CTL_FLUSHDNS "flushdns"
#define CTL_STATS "stats"
#define CTL_SERVERS "servers"
#define CTL_RELOAD "reload"
#define CTL_FLUSH_NEGATIVE "--negative"

/* answer keys */
#define CTL_K_ERROR "error"
#define CTL_K_ENTRIES "entries"
#define CTL_K_FLUSHED "flushed"
#define CTL_K_ADAPTERS "adapters"

#endif
