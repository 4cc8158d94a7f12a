/*
 * xml-node.h - the two libxml2 lookups the actuator's readers of libvirt
 * XML (domain, network) share: a child element by name, an attribute as a
 * GLib string. Both take NULL, so a chain of lookups needs no checks.
 */
#ifndef VS_XML_NODE_H
#define VS_XML_NODE_H

#include <libxml/tree.h>

/* The first child element of @parent named @name, or NULL. */
xmlNodePtr vs_xml_child(xmlNodePtr parent, const char *name);
/* Attribute @name of @n as a g_malloc'd string, or NULL. */
char *vs_xml_prop(xmlNodePtr n, const char *name);

#endif
