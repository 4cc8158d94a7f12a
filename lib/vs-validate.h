/*
 * vs-validate.h - the gate every name from a VM, a domain or a message
 * passes before it reaches a load-balancer config, a mail header, a log line
 * or an argv. Strict allow-lists: anything unusual is refused, not escaped.
 */
#ifndef VS_VALIDATE_H
#define VS_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* IPv4 dotted quad or IPv6 literal (without brackets). */
bool vs_valid_ip_literal(const char *s);
/* RFC 1123 hostname: labels of [A-Za-z0-9-], not starting/ending with '-', <= 253. */
bool vs_valid_hostname(const char *s);
/* "host:port" / "[v6]:port" with host an IP literal or hostname, port 1..65535. */
bool vs_valid_host_port(const char *s);
/* Pool names, the one definition: [A-Za-z0-9][A-Za-z0-9_-]{0,63}. */
bool vs_valid_pool_name(const char *s);
/*
 * Names a load balancer's config and URLs take as one token (the nginx
 * upstream and zone, the Apache balancer), the one definition the config
 * parser and the drivers share: [A-Za-z0-9][A-Za-z0-9_-]{0,63}.
 */
bool vs_valid_lb_name(const char *s);
/* Domain names we create or act on: [A-Za-z0-9][A-Za-z0-9_.+-]{0,63}. */
bool vs_valid_domain_name(const char *s);
/* UTF-8 and no control characters (for log lines, messages, SNMP strings). */
bool vs_valid_text(const char *s, size_t len);

/*
 * Copies @in into @out (size @outsz) for use inside a mail header or a log
 * line: control characters (CR, LF, ...) become '?', invalid UTF-8 becomes
 * '?', truncated at a character boundary. Always NUL-terminates.
 */
void vs_sanitize_line(const char *in, char *out, size_t outsz);

#endif
