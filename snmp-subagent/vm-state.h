/*
 * vm-state.h - libvirt domain state and reason -> VM-MIB's
 * VirtualMachineAdminState and VirtualMachineOperState.
 */
#ifndef VS_VM_STATE_H
#define VS_VM_STATE_H

enum {
	VM_ADMIN_RUNNING = 1,
	VM_ADMIN_SUSPENDED = 2,
	VM_ADMIN_PAUSED = 3,
	VM_ADMIN_SHUTDOWN = 4,
};

enum {
	VM_OPER_UNKNOWN = 1,
	VM_OPER_OTHER = 2,
	VM_OPER_PREPARING = 3,
	VM_OPER_RUNNING = 4,
	VM_OPER_SUSPENDING = 5,
	VM_OPER_SUSPENDED = 6,
	VM_OPER_RESUMING = 7,
	VM_OPER_PAUSED = 8,
	VM_OPER_MIGRATING = 9,
	VM_OPER_SHUTTINGDOWN = 10,
	VM_OPER_SHUTDOWN = 11,
	VM_OPER_CRASHED = 12,
};

int vm_oper_state(int state, int reason);
int vm_admin_state(int state, int reason);
/* The per-VM notification (vmNotifications.N) for entering @oper, 0 = none. */
int vm_oper_notification(int oper);

#endif
