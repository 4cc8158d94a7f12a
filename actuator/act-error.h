/*
 * act-error.h - the actuator's GError domain and its codes, shared by its
 * rooms (daemon, ops, cli). libvirt failures are VS_VIRT_ERROR (lib/),
 * load-balancer ones VS_LB_ERROR (lb/lb.h), e-mail ones VS_MAIL_ERROR
 * (mail/alert.h).
 */
#ifndef VS_ACT_ERROR_H
#define VS_ACT_ERROR_H

#include <glib.h>

#define VS_ACT_ERROR (vs_act_error_quark())
GQuark vs_act_error_quark(void);

typedef enum {
	VS_ACT_ERROR_FAILED,    /* none of the below */
	VS_ACT_ERROR_INVALID,   /* bad input: a command line, stdin, a request */
	VS_ACT_ERROR_NOT_FOUND, /* the template, a host, a domain, a volume */
	VS_ACT_ERROR_STATE,     /* the template runs, no member to stop, out of min..max */
	VS_ACT_ERROR_EXHAUSTED, /* no free name or port left */
	VS_ACT_ERROR_TIMEOUT,   /* no address or no probe answer in time */
	VS_ACT_ERROR_IO,        /* the journal, the state directory, the socket */
	VS_ACT_ERROR_BUSY,      /* another virtscaled listens on the socket */
	VS_ACT_ERROR_REFUSED,   /* well-formed, but not ours to obey: a trap that is not a
	                           VIRTSCALE-MIB pool notification, a peer not allowed */
} vs_act_error_code;

#endif
