/*
 * vs-config-internal.h - what the config file reader (vs-config.c) and the
 * value parsers (vs-config-values.c) share. Not part of the lib/ API.
 */
#ifndef VS_CONFIG_INTERNAL_H
#define VS_CONFIG_INTERNAL_H

#include "vs-config.h"

#include <stddef.h>

/* The fixed groups come first (one instance each), then the named ones
 * ([host NAME], [pool NAME]). */
typedef enum {
	G_LIBVIRT,
	G_SNMP,
	G_ACTUATOR,
	G_NGINX,
	G_APACHE,
	G_MAIL,
	G_PRICES,
	G_HOST,
	G_POOL,
	G_COUNT
} group_id;

typedef struct key_desc key_desc;

/*
 * A value parser: stores @value into @base (a vs_config or vs_pool_config)
 * or returns false with a message in @msg. Parsers replace (and free) what
 * the field held, so the default can be overwritten.
 */
typedef bool (*value_parser)(const key_desc *k, void *base, const char *value, char **msg);

struct key_desc {
	group_id group;
	const char *name;
	value_parser parse;
	size_t offset;              /* of the field in base; unused by custom parsers */
	const char *def;            /* default, parsed by @parse; NULL = unset */
	double min, max;            /* numeric range (inclusive) */
	const char *const *choices; /* enum names, index = enum value */
	bool required;
};

/*
 * The value parsers named in the key table (vs-config.c). Each stores
 * @value into @base (a vs_config or a vs_pool_config) at k->offset, or
 * into the fields it names, or returns false with *@msg set; see
 * vs-config-values.c for the syntax each accepts.
 */
bool vs_config_value_uint(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_duration(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_double(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_bool(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_enum(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_word(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_text(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_path(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_name(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_lb_name(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_unix_group(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_uid_list(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_gid_list(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_url(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_host_port(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_email(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_email_list(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_uri(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_uri_list(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_word_list(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_ipv4_address(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_fast_path(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_starttls(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_debounce(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_port_range(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_ipv4_nets(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_sessions(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_probe(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_vertical(const key_desc *k, void *base, const char *value, char **msg);
bool vs_config_value_name_pattern(const key_desc *k, void *base, const char *value, char **msg);

/* The key table, for tests: group and key name of key @i; false past the end. */
bool vs_config_key_at(size_t i, const char **group, const char **name);

#endif
