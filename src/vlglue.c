/*
 * vlglue.c - resolved-compat in the daemon: the varlink server of SPEC 16
 * wired to the query pipeline.  A varlink question enters resolver_query
 * as a client would, with a client_ref whose ctl carries VL_REF_TAG;
 * daemon_reply hands its answer to vlserver_answer.
 */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "daemon.h"
#include "resolve.h"
#include "vlserver.h"

static int
vl_submit(void *arg, uint64_t id, const uint8_t *pkt, size_t len)
{
	struct daemon *d = arg;
	struct client_ref ref;

	if (!d->res)
		return -1;
	memset(&ref, 0, sizeof(ref));
	ref.fd = -1;
	/* a local question like stubctl query's: no ACL, no UDP size limit;
	 * the tag tells daemon_reply it is ours */
	ref.ctl = id;
	/* the packets of its search tell a timeout from a SERVFAIL */
	ref.trace = true;
	resolver_query(d->res, pkt, len, &ref, true, clock_now_ms());
	return 0;
}

static bool
vl_no_servers(void *arg)
{
	struct daemon *d = arg;

	return !d->cfg || d->cfg->nservers == 0;
}

/* resolved-compat yes: /run/systemd/resolve/io.systemd.Resolve, or in
 * $STUBD_RESOLVE_DIR (tests); bound while still privileged. */
enum stub_err
start_varlink(struct daemon *d, char *why, size_t whylen)
{
	struct vlserver_ops ops = { vl_submit, vl_no_servers, d, PACKAGE_VERSION };
	const char *dir = getenv("STUBD_RESOLVE_DIR");

	if (!d->cfg->resolved_compat)
		return STUB_OK;
	return vlserver_new(d->base, dir && *dir ? dir : VL_RESOLVE_DIR, &ops, &d->vl, why,
	    whylen);
}
