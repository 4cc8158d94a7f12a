/* vm-state.c - libvirt state/reason to VM-MIB states */
#include "config.h"

#include "vm-state.h"

#include <libvirt/libvirt.h>

/**
 * vm_oper_state:
 * The VM-MIB operational state of a domain in libvirt @state for @reason.
 * Transient states come from the reason: a domain paused for a migration
 * is migrating(9), paused while saving is suspending(5), paused while
 * starting is preparing(3).
 */
int vm_oper_state(int state, int reason)
{
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
		return VM_OPER_RUNNING;
	case VIR_DOMAIN_PAUSED:
		switch (reason) {
		case VIR_DOMAIN_PAUSED_MIGRATION:
		case VIR_DOMAIN_PAUSED_POSTCOPY:
			return VM_OPER_MIGRATING;
		case VIR_DOMAIN_PAUSED_SAVE:
		case VIR_DOMAIN_PAUSED_DUMP:
			return VM_OPER_SUSPENDING;
		case VIR_DOMAIN_PAUSED_SHUTTING_DOWN:
			return VM_OPER_SHUTTINGDOWN;
		case VIR_DOMAIN_PAUSED_CRASHED:
			return VM_OPER_CRASHED;
		case VIR_DOMAIN_PAUSED_STARTING_UP:
			return VM_OPER_PREPARING;
		case VIR_DOMAIN_PAUSED_POSTCOPY_FAILED:
		case VIR_DOMAIN_PAUSED_IOERROR:
		case VIR_DOMAIN_PAUSED_WATCHDOG:
			return VM_OPER_OTHER;
		default:
			return VM_OPER_PAUSED;
		}
	case VIR_DOMAIN_SHUTDOWN:
		return VM_OPER_SHUTTINGDOWN;
	case VIR_DOMAIN_SHUTOFF:
		switch (reason) {
		case VIR_DOMAIN_SHUTOFF_SAVED:
			return VM_OPER_SUSPENDED;
		case VIR_DOMAIN_SHUTOFF_CRASHED:
			return VM_OPER_CRASHED;
		default:
			return VM_OPER_SHUTDOWN;
		}
	case VIR_DOMAIN_CRASHED:
		return VM_OPER_CRASHED;
	case VIR_DOMAIN_PMSUSPENDED:
		return VM_OPER_SUSPENDED;
	default:
		return VM_OPER_UNKNOWN;
	}
}

/**
 * vm_admin_state:
 * What the domain was asked to be: paused(3) only when a user paused it,
 * suspended(2) when saved or suspended to RAM, shutdown(4) when off.
 */
int vm_admin_state(int state, int reason)
{
	switch (state) {
	case VIR_DOMAIN_PAUSED:
		return reason == VIR_DOMAIN_PAUSED_USER   ? VM_ADMIN_PAUSED
		       : reason == VIR_DOMAIN_PAUSED_SAVE ? VM_ADMIN_SUSPENDED
		                                          : VM_ADMIN_RUNNING;
	case VIR_DOMAIN_PMSUSPENDED:
		return VM_ADMIN_SUSPENDED;
	case VIR_DOMAIN_SHUTOFF:
		return reason == VIR_DOMAIN_SHUTOFF_SAVED ? VM_ADMIN_SUSPENDED : VM_ADMIN_SHUTDOWN;
	case VIR_DOMAIN_SHUTDOWN:
	case VIR_DOMAIN_CRASHED:
		return VM_ADMIN_SHUTDOWN;
	default:
		return VM_ADMIN_RUNNING;
	}
}

/**
 * vm_oper_notification:
 * RFC 7666 numbers its per-VM notifications vmRunning(1) .. vmCrashed(9)
 * after the operational state they announce; unknown, other and preparing
 * have none.
 */
int vm_oper_notification(int oper)
{
	switch (oper) {
	case VM_OPER_RUNNING:
		return 1;
	case VM_OPER_SHUTTINGDOWN:
		return 2;
	case VM_OPER_SHUTDOWN:
		return 3;
	case VM_OPER_PAUSED:
		return 4;
	case VM_OPER_SUSPENDING:
		return 5;
	case VM_OPER_SUSPENDED:
		return 6;
	case VM_OPER_RESUMING:
		return 7;
	case VM_OPER_MIGRATING:
		return 8;
	case VM_OPER_CRASHED:
		return 9;
	default:
		return 0;
	}
}
