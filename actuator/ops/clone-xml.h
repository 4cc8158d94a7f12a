/*
 * clone-xml.h - a clone's domain XML from its template's, as virt-clone
 * makes it. Pure (libxml2 only): unit-tested without libvirt.
 */
#ifndef VS_CLONE_XML_H
#define VS_CLONE_XML_H

#include "vs-config.h"

#include <glib.h>
#include <libxml/tree.h>

typedef struct vs_clone_disk {
	char *target;     /* "vda" */
	char *src_path;   /* template's file */
	char *src_format; /* "qcow2", "raw" */
	char *new_path;   /* the clone's volume path */
	char *new_format;
} vs_clone_disk;

/* The template's disks to clone (of vs_clone_disk*); NULL with @error. */
GPtrArray *vs_clone_xml_disks(const char *xml, GError **error);
void vs_clone_disk_free(vs_clone_disk *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vs_clone_disk, vs_clone_disk_free)
/* The clone's XML: @name, its @disks, our tag (@pool, @address), and with
 * address = hostfwd the clone's own host port. */
char *vs_clone_xml_rewrite(const char *xml, const char *name, const GPtrArray *disks,
                           const char *pool, const char *address, const vs_pool_config *cfg,
                           GError **error);
char *vs_clone_xml_rewrite_tagged(const char *xml, const char *name, const GPtrArray *disks,
                                  const char *pool, const char *address, const char *template_id,
                                  bool warm, const vs_pool_config *cfg, GError **error);
/* The host side of the domain's hostfwd rule set to @address (a
 * user-mode NIC added when it has none); a migration's destination XML
 * uses it too. */
void vs_clone_xml_set_hostfwd(xmlDocPtr doc, xmlNodePtr root, const char *address,
                              const vs_pool_config *cfg);

#endif
