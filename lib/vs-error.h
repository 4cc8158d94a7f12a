/*
 * vs-error.h - every GError domain of lib/ and its typed codes, in one
 * place. A caller matches a failure with g_error_matches(err, DOMAIN, CODE);
 * codes are these enums, never errno values or another library's numbers
 * (libvirt's own codes live in their own domain, VS_VIRT_ERROR, whose code
 * is libvirt's virErrorNumber).
 */
#ifndef VS_ERROR_H
#define VS_ERROR_H

#include <glib.h>

/* virtscale.conf (vs-config.c) */
#define VS_CONFIG_ERROR (vs_config_error_quark())
GQuark vs_config_error_quark(void);
typedef enum {
	VS_CONFIG_ERROR_PARSE, /* FILE:LINE: what is wrong */
	VS_CONFIG_ERROR_IO,    /* the file cannot be read */
} vs_config_error_code;

/* Notification wire format (vs-notify.c) */
#define VS_NOTIFY_ERROR (vs_notify_error_quark())
GQuark vs_notify_error_quark(void);
typedef enum {
	VS_NOTIFY_ERROR_INVALID, /* the line is not a valid notification */
} vs_notify_error_code;

/* status.json (vs-status.c) */
#define VS_STATUS_ERROR (vs_status_error_quark())
GQuark vs_status_error_quark(void);
typedef enum {
	VS_STATUS_ERROR_INVALID, /* not a valid status document */
	VS_STATUS_ERROR_IO,      /* cannot be written */
} vs_status_error_code;

/* Files replaced atomically (vs-file.c) */
#define VS_FILE_ERROR (vs_file_error_quark())
GQuark vs_file_error_quark(void);
typedef enum {
	VS_FILE_ERROR_CREATE, /* the temporary file */
	VS_FILE_ERROR_WRITE,  /* writing or syncing it */
	VS_FILE_ERROR_RENAME, /* putting it in place */
	VS_FILE_ERROR_SYNC,   /* syncing the directory */
} vs_file_error_code;

/* A daemon's pid file (vs-pidfile.c) */
#define VS_PIDFILE_ERROR (vs_pidfile_error_quark())
GQuark vs_pidfile_error_quark(void);
typedef enum {
	VS_PIDFILE_ERROR_HELD, /* locked by another process: a daemon runs */
	VS_PIDFILE_ERROR_IO,   /* cannot be opened, locked or written */
} vs_pidfile_error_code;

/* Pool session sources (vs-pool-sessions.c) */
#define VS_POOL_ERROR (vs_pool_error_quark())
GQuark vs_pool_error_quark(void);
typedef enum {
	VS_POOL_ERROR_CONFIG,   /* the source is not configured completely */
	VS_POOL_ERROR_NO_COUNT, /* the source answered without a session count */
} vs_pool_error_code;

/* HTTP fetches (vs-http.c) */
#define VS_HTTP_ERROR (vs_http_error_quark())
GQuark vs_http_error_quark(void);
typedef enum {
	VS_HTTP_ERROR_URL,       /* not an http(s) URL */
	VS_HTTP_ERROR_INIT,      /* libcurl could not be set up */
	VS_HTTP_ERROR_TOO_LARGE, /* the body exceeds the cap */
	VS_HTTP_ERROR_TRANSFER,  /* connection, timeout, protocol */
	VS_HTTP_ERROR_STATUS,    /* an HTTP status other than 2xx */
	VS_HTTP_ERROR_REDIRECT,  /* a 3xx: redirects are never followed */
} vs_http_error_code;

/* Apache balancer-manager documents (vs-balancer-xml.c) */
#define VS_BALANCER_ERROR (vs_balancer_error_quark())
GQuark vs_balancer_error_quark(void);
typedef enum {
	VS_BALANCER_ERROR_SYNTAX,     /* not well-formed, or nesting not allowed */
	VS_BALANCER_ERROR_VALUE,      /* a value out of range or too long */
	VS_BALANCER_ERROR_INCOMPLETE, /* a required element is missing */
	VS_BALANCER_ERROR_NOT_FOUND,  /* the balancer is not in the document */
} vs_balancer_error_code;

/* sock_diag (vs-sockdiag.c) */
#define VS_SOCKDIAG_ERROR (vs_sockdiag_error_quark())
GQuark vs_sockdiag_error_quark(void);
typedef enum {
	VS_SOCKDIAG_ERROR_SOCKET,   /* the netlink socket cannot be opened or used */
	VS_SOCKDIAG_ERROR_KERNEL,   /* the kernel answered with an error */
	VS_SOCKDIAG_ERROR_PROTOCOL, /* the answer is malformed */
	VS_SOCKDIAG_ERROR_INVALID,  /* an endpoint is not a numeric address */
} vs_sockdiag_error_code;

/* libvirt (vs-virt.c): the code is libvirt's virErrorNumber */
#define VS_VIRT_ERROR (vs_virt_error_quark())
GQuark vs_virt_error_quark(void);

/* lib/vs-usage.c: the usage state file */
#define VS_USAGE_ERROR (vs_usage_error_quark())
GQuark vs_usage_error_quark(void);
typedef enum {
	VS_USAGE_ERROR_CORRUPT, /* torn, bad checksum, bad line */
	VS_USAGE_ERROR_VERSION, /* written by another format version */
} vs_usage_error_code;

#endif
