/*
 * vs-states.c - the state tables (see vs-states.h). One line per state:
 * its name outside the programs, its VIRTSCALE-MIB label and number. The
 * MIB numbers are fixed once published: a new state gets a new number.
 */
#include "config.h"

#include "vs-states.h"

#include <glib.h>
#include <math.h>
#include <string.h>

static const vs_state_entry verdicts[] = {
    [VS_VERDICT_OK] = {"ok", "ok", 1},
    [VS_VERDICT_HIGH] = {"high", "high", 2},
    [VS_VERDICT_LOW] = {"low", "low", 3},
    [VS_VERDICT_AT_MAX] = {"at_max", "atMax", 4},
    [VS_VERDICT_UNKNOWN] = {"unknown", "unknown", 5},
};

static const vs_state_entry phases[] = {
    [VS_PHASE_IDLE] = {"idle", "idle", 1},
    [VS_PHASE_SCALING_OUT] = {"scaling-out", "scalingOut", 2},
    [VS_PHASE_SCALING_IN] = {"scaling-in", "scalingIn", 3},
    [VS_PHASE_COOLDOWN] = {"cooldown", "cooldown", 4},
    [VS_PHASE_UNKNOWN] = {"unknown", "unknown", 5},
    [VS_PHASE_MIGRATING] = {"migrating", "migrating", 6},
};

static const vs_state_entry actions[] = {
    [VS_ACTION_NONE] = {"none", "none", 1},
    [VS_ACTION_SCALE_OUT] = {"scale-out", "scaleOut", 2},
    [VS_ACTION_SCALE_IN] = {"scale-in", "scaleIn", 3},
    [VS_ACTION_RESTART] = {"restart", "restart", 4},
    [VS_ACTION_VCPU_ADD] = {"vcpu-add", "vcpuAdd", 5},
    [VS_ACTION_VCPU_REMOVE] = {"vcpu-remove", "vcpuRemove", 6},
    [VS_ACTION_MEMORY_ADD] = {"memory-add", "memoryAdd", 7},
    [VS_ACTION_MEMORY_REMOVE] = {"memory-remove", "memoryRemove", 8},
    [VS_ACTION_UNKNOWN] = {"unknown", "unknown", 9},
    [VS_ACTION_MIGRATE] = {"migrate", "migrate", 10},
};

static const vs_state_entry results[] = {
    [VS_RESULT_NONE] = {"none", "none", 1},
    [VS_RESULT_OK] = {"ok", "ok", 2},
    [VS_RESULT_FAILED] = {"failed", "failed", 3},
    [VS_RESULT_RUNNING] = {"running", "running", 4},
    [VS_RESULT_CANCELLED] = {"cancelled", "cancelled", 6},
    [VS_RESULT_UNKNOWN] = {"unknown", "unknown", 5},
};

static const vs_state_entry lb_states[] = {
    [VS_LB_STATE_UNKNOWN] = {"unknown", "unknown", 1},
    [VS_LB_STATE_ENABLED] = {"enabled", "enabled", 2},
    [VS_LB_STATE_DRAINING] = {"draining", "draining", 3},
    [VS_LB_STATE_DISABLED] = {"disabled", "disabled", 4},
};

static const vs_state_entry alert_kinds[] = {
    [VS_ALERT_NONE] = {"none", "none", 1},
    [VS_ALERT_AT_MAX] = {"at-max", "atMax", 2},
    [VS_ALERT_ACTION_FAILED] = {"action-failed", "actionFailed", 3},
    [VS_ALERT_RECONCILED] = {"reconciled", "reconciled", 4},
    [VS_ALERT_RECOVERED] = {"recovered", "recovered", 5},
    [VS_ALERT_TEST] = {"test", "test", 6},
    [VS_ALERT_HOST_LOST] = {"host-lost", "hostLost", 8},
    [VS_ALERT_HOST_BACK] = {"host-back", "hostBack", 9},
    [VS_ALERT_UNKNOWN] = {"unknown", "unknown", 7},
};

static const vs_state_entry host_conds[] = {
    [VS_HOST_COND_CONNECTED] = {"connected", "connected", 1},
    [VS_HOST_COND_CONNECTING] = {"connecting", "connecting", 2},
    [VS_HOST_COND_DISCONNECTED] = {"disconnected", "disconnected", 3},
    [VS_HOST_COND_LOST] = {"lost", "lost", 4},
    [VS_HOST_COND_UNKNOWN] = {"unknown", "unknown", 5},
};

#define TABLE(var, what, mib, entries, unknown)                                                    \
	const vs_state_table var = {what, mib, entries, G_N_ELEMENTS(entries), unknown}

TABLE(vs_verdict_table, "verdict", "VsPolicyState", verdicts, VS_VERDICT_UNKNOWN);
TABLE(vs_phase_table, "phase", "VsPoolPhase", phases, VS_PHASE_UNKNOWN);
TABLE(vs_action_table, "action", "VsAction", actions, VS_ACTION_UNKNOWN);
TABLE(vs_result_table, "result", "VsActionResult", results, VS_RESULT_UNKNOWN);
TABLE(vs_lb_state_table, "lb state", "VsLbState", lb_states, VS_LB_STATE_UNKNOWN);
TABLE(vs_alert_kind_table, "alert kind", "VsAlertKind", alert_kinds, VS_ALERT_UNKNOWN);
TABLE(vs_host_cond_table, "host state", "VsHostStatus", host_conds, VS_HOST_COND_UNKNOWN);

const vs_state_table *const vs_state_tables[] = {
    &vs_verdict_table,  &vs_phase_table,      &vs_action_table,    &vs_result_table,
    &vs_lb_state_table, &vs_alert_kind_table, &vs_host_cond_table, NULL,
};

/**
 * vs_state_name:
 * @t: a state table
 * @value: one of its enum's values
 *
 * Returns the state's name outside the programs; a value out of range is
 * the table's unknown state.
 */
const char *vs_state_name(const vs_state_table *t, unsigned value)
{
	return t->entries[value < t->n ? value : t->unknown].name;
}

/**
 * vs_state_from_name:
 * @t: a state table
 * @name: a name read from a file or the wire (may be NULL)
 * @value: set to the state, or to the unknown state
 *
 * Returns true when @name is one of the table's names.
 */
bool vs_state_from_name(const vs_state_table *t, const char *name, unsigned *value)
{
	for (unsigned i = 0; name && i < t->n; i++) {
		if (strcmp(t->entries[i].name, name) == 0) {
			*value = i;
			return true;
		}
	}
	*value = t->unknown;
	return false;
}

/**
 * vs_state_mib:
 * @t: a state table
 * @value: one of its enum's values
 *
 * Returns the state's number in VIRTSCALE-MIB.
 */
long vs_state_mib(const vs_state_table *t, unsigned value)
{
	return t->entries[value < t->n ? value : t->unknown].mib;
}

/**
 * vs_hundredths:
 * @v: a figure, <0 or NaN when unknown
 *
 * Returns it in VIRTSCALE-MIB's VsHundredths: round(v * 100), -1 unknown,
 * capped at 2147483647.
 */
long vs_hundredths(double v)
{
	double h;

	if (isnan(v) || v < 0)
		return -1;
	h = round(v * 100.0);
	return h > G_MAXINT32 ? G_MAXINT32 : (long)h;
}
