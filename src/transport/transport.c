/*
 * transport.c - the factories of the transports, by kind: the rows of
 * transports.def.
 */
#include "auto-config.h"

#include "transport.h"

static const transport_factory factories[XPORT_COUNT] = {
#define TRANSPORT(kind, name, port, encrypted, factory) [kind] = factory,
#include "transports.def"
#undef TRANSPORT
};

transport_factory
transport_factory_of(enum cfg_transport kind)
{
	return (unsigned)kind < XPORT_COUNT ? factories[kind] : NULL;
}
