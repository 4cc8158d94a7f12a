/*
 * xml-node.c - see xml-node.h.
 */
#include "config.h"

#include "xml-node.h"

#include <glib.h>

xmlNodePtr vs_xml_child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name))
			return c;
	return NULL;
}

char *vs_xml_prop(xmlNodePtr n, const char *name)
{
	xmlChar *v = n ? xmlGetProp(n, BAD_CAST name) : NULL;
	char *copy = v ? g_strdup((const char *)v) : NULL;

	xmlFree(v);
	return copy;
}
