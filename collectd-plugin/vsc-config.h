/*
 * vsc-config.h - the <Plugin virtscale> block of collectd.conf.
 *
 *   <Plugin virtscale>
 *     ConfigFile "/etc/virtscale/virtscale.conf"   # the shared virtscale config
 *     Interval 1                 # seconds: read, collection and policy cadence
 *     SlowInterval 10            # seconds: balloon/vCPU/block/interface groups;
 *                                # 0 = every group every Interval
 *     RepeatInterval 10          # seconds between repeats of a lasting breach
 *     ActuatorSocket "/run/virtscale/actuator.sock"
 *     ForwardNotifications true  # pool notifications to the actuator
 *     ForwardThresholds true     # threshold-plugin notifications about our values
 *     QueueLength 1000           # lines kept while the actuator is away
 *     MaxAge 5                   # a snapshot older than this many intervals: read fails
 *   </Plugin>
 */
#ifndef VSC_CONFIG_H
#define VSC_CONFIG_H

#include <glib.h>
#include <stdbool.h>

typedef struct vsc_options {
	char *config_file;      /* NULL = VS default */
	double interval_s;      /* 0 = [libvirt] refresh_interval */
	double slow_interval_s; /* < 0 = [libvirt] slow_interval; 0 = every interval */
	int repeat_interval_s;  /* < 0 = each pool's repeat_interval */
	char *actuator_socket;  /* NULL = [actuator] socket; "" = no forwarding */
	bool forward_notifications;
	bool forward_thresholds;
	unsigned queue_length;
	unsigned max_age_intervals;
} vsc_options;

void vsc_options_init(vsc_options *o);
void vsc_options_clear(vsc_options *o);

#endif
