/*
 * fakeup_main.c - the fake upstream as a program, for manual tests and
 * load tests: fakeup [-m MODE] [-d MS] [-p PORT] ADDR [NAME TYPE TTL DATA]...
 * Prints the port it bound, then serves until SIGTERM/SIGINT; with -l it
 * then prints every query it saw: seconds since the first, peer, name, type.
 */
#include "auto-config.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakeup.h"

static volatile sig_atomic_t stop;

static void
on_sig(int s)
{
	(void)s;
	stop = 1;
}

int
main(int argc, char **argv)
{
	static const char *const modes[] = { "answer", "drop", "servfail", "refused", "formerr",
		"nxdomain", "nodata", "truncate", "mismatch", "wrongid", "lowercase" };
	enum fake_mode mode = FAKE_ANSWER;
	unsigned delay = 0, port = 0;
	struct fakeup *f;
	int c, i, dump = 0, ad = 0;
	char *tls = NULL;
	bool h2 = false;

	if (argc == 5 && strcmp(argv[1], "-g") == 0) {
		/* fakeup -g NAME CERT KEY: a self-signed certificate; prints its pin */
		char pin[64];

		if (fakeup_make_cert(argv[2], argv[3], argv[4], pin) != 0) {
			fprintf(stderr, "fakeup: cannot write %s and %s\n", argv[3], argv[4]);
			return 1;
		}
		printf("%s\n", pin);
		return 0;
	}
	while ((c = getopt(argc, argv, "m:d:lat:H:p:")) != -1) {
		if (c == 'l') {
			dump = 1;
			continue;
		}
		if (c == 'a') {
			ad = 1;
			continue;
		}
		if (c == 't' || c == 'H') {
			tls = optarg;
			h2 = c == 'H';
			continue;
		}
		if (c == 'm') {
			for (i = 0; i < 11 && strcmp(modes[i], optarg) != 0; i++)
				;
			if (i == 11) {
				fprintf(stderr, "fakeup: unknown mode %s\n", optarg);
				return 1;
			}
			mode = (enum fake_mode)i;
		} else if (c == 'd') {
			delay = (unsigned)atoi(optarg);
		} else if (c == 'p') {
			port = (unsigned)atoi(optarg); /* a fixed port (DoH on 443) */
		} else {
			return 1;
		}
	}
	if (optind >= argc || (argc - optind - 1) % 4 != 0) {
		fprintf(stderr,
		    "usage: fakeup [-l] [-a] [-t|-H CERT,KEY] [-m MODE] [-d MS] [-p PORT] ADDR "
		    "[NAME TYPE TTL DATA]...\n       fakeup -g NAME CERT KEY\n");
		return 1;
	}
	f = port ? fakeup_start_port(argv[optind], (uint16_t)port) : fakeup_start(argv[optind]);
	if (!f) {
		fprintf(stderr, "fakeup: cannot bind %s\n", argv[optind]);
		return 1;
	}
	for (i = optind + 1; i + 3 < argc; i += 4)
		if (fakeup_add(f, argv[i], argv[i + 1], (uint32_t)atol(argv[i + 2]), argv[i + 3])) {
			fprintf(stderr, "fakeup: bad record %s %s\n", argv[i], argv[i + 1]);
			fakeup_stop(f);
			return 1;
		}
	fakeup_set_mode(f, mode);
	fakeup_set_delay(f, delay);
	fakeup_set_ad(f, ad != 0);
	if (tls) {
		char *comma = strchr(tls, ',');

		if (!comma || (*comma = '\0', fakeup_tls(f, tls, comma + 1, h2) != 0)) {
			fprintf(stderr, "fakeup: cannot use certificate and key '%s'\n", tls);
			fakeup_stop(f);
			return 1;
		}
	}
	printf("%u\n", fakeup_port(f));
	fflush(stdout);
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	while (!stop)
		pause();
	if (dump) {
		size_t n = fakeup_log(f, NULL, 0), k;
		struct fake_rec *log = calloc(n + 1, sizeof(*log));

		if (log) {
			fakeup_log(f, log, n);
			for (k = 0; k < n; k++)
				printf("%8.3f s  %s:%u  %s  type %u%s\n",
				    (log[k].t_ms - log[0].t_ms) / 1000.0, log[k].peer,
				    log[k].peer_port, log[k].name, log[k].qtype,
				    log[k].tcp ? "  tcp" : "");
			free(log);
		}
	}
	fakeup_stop(f);
	return 0;
}
