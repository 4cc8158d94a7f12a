/*
 * migrate-xml.h - a migrating member's domain XML for its destination.
 * Pure (libxml2 only): unit-tested without libvirt.
 */
#ifndef VS_MIGRATE_XML_H
#define VS_MIGRATE_XML_H

#include "vs-config.h"

#include <glib.h>

/* @xml (the member's, live or persistent) with our tag's address set to
 * @address and, with address = hostfwd, its port forward on it; with
 * @partition (may be NULL: kept) its cgroup partition. NULL with @error
 * when the XML is unreadable or carries no virtscale tag. */
char *vs_migrate_xml(const char *xml, const char *address, const char *partition,
                     const vs_pool_config *cfg, GError **error);

#endif
