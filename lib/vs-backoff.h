/*
 * vs-backoff.h - the one retry rhythm of every program: after a failure,
 * wait first_ms, then twice as long each time up to max_ms; a success
 * starts over. Pure (the clock is passed in), so it is unit-tested; used for
 * libvirt reconnects, the actuator socket, SMTP delivery and failed actions.
 */
#ifndef VS_BACKOFF_H
#define VS_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

typedef struct vs_backoff {
	int64_t first_ms;
	int64_t max_ms;
	int64_t not_before_ms; /* no attempt before this time; 0 = now */
	unsigned failures;     /* consecutive */
} vs_backoff;

/* The wait after the @failures-th consecutive failure (1: @first_ms). */
int64_t vs_backoff_delay_ms(int64_t first_ms, int64_t max_ms, unsigned failures);

void vs_backoff_init(vs_backoff *b, int64_t first_ms, int64_t max_ms);
/* Records a failure at @now_ms; returns how long to wait before the next try. */
int64_t vs_backoff_failed(vs_backoff *b, int64_t now_ms);
/* Records a success: the next failure waits first_ms again. */
void vs_backoff_reset(vs_backoff *b);
/* May an attempt be made at @now_ms? */
bool vs_backoff_ready(const vs_backoff *b, int64_t now_ms);
/* Milliseconds until the next attempt may be made (0 = now). */
int64_t vs_backoff_remaining(const vs_backoff *b, int64_t now_ms);

#endif
