/*
 * static-table.c - the anchor of bench/snmp-walk: an AgentX subagent that
 * serves an in-memory table of static data with net-snmp's own table_data_set
 * helper, through the same snmpd and AgentX path as virtscale-snmp.
 *
 *   static-table SOCKET ROWS
 *
 * ROWS rows of 10 columns (integers, strings, Counter64s, like vmTable and
 * vmStorageTable) under 1.3.6.1.4.1.8072.9999.9998 (net-snmp's experimental
 * arc, outside VIRTSCALE-MIB).
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	static const oid root[] = {1, 3, 6, 1, 4, 1, 8072, 9999, 9998, 1};
	if (argc != 3) {
		fprintf(stderr, "usage: static-table SOCKET ROWS\n");
		return 2;
	}
	long rows = atol(argv[2]);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	snmp_enable_stderrlog();
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, argv[1]);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	init_agent("static-table");

	netsnmp_table_data_set *t = netsnmp_create_table_data_set("staticTable");
	netsnmp_table_set_add_indexes(t, ASN_INTEGER, 0);
	netsnmp_table_set_multi_add_default_row(
	    t, 2, ASN_OCTET_STR, 0, NULL, 0, 3, ASN_OCTET_STR, 0, NULL, 0, 4, ASN_INTEGER, 0, NULL,
	    0, 5, ASN_INTEGER, 0, NULL, 0, 6, ASN_INTEGER, 0, NULL, 0, 7, ASN_GAUGE, 0, NULL, 0, 8,
	    ASN_TIMETICKS, 0, NULL, 0, 9, ASN_COUNTER64, 0, NULL, 0, 10, ASN_COUNTER64, 0, NULL, 0,
	    11, ASN_COUNTER64, 0, NULL, 0, 0);
	netsnmp_register_table_data_set(netsnmp_create_handler_registration("staticTable", NULL,
	                                                                    root, OID_LENGTH(root),
	                                                                    HANDLER_CAN_RONLY),
	                                t, NULL);
	for (long i = 1; i <= rows; i++) {
		netsnmp_table_row *row = netsnmp_create_table_data_row();
		char name[32];
		unsigned char uuid[16];
		long v = i * 7;
		struct counter64 c = {.high = 1, .low = (u_long)i * 1000};
		snprintf(name, sizeof(name), "static-row-%04ld", i);
		memset(uuid, (int)i, sizeof(uuid));
		netsnmp_table_row_add_index(row, ASN_INTEGER, &i, sizeof(i));
		netsnmp_set_row_column(row, 2, ASN_OCTET_STR, name, strlen(name));
		netsnmp_set_row_column(row, 3, ASN_OCTET_STR, uuid, sizeof(uuid));
		netsnmp_set_row_column(row, 4, ASN_INTEGER, &v, sizeof(v));
		netsnmp_set_row_column(row, 5, ASN_INTEGER, &v, sizeof(v));
		netsnmp_set_row_column(row, 6, ASN_INTEGER, &v, sizeof(v));
		netsnmp_set_row_column(row, 7, ASN_GAUGE, &v, sizeof(v));
		netsnmp_set_row_column(row, 8, ASN_TIMETICKS, &v, sizeof(v));
		netsnmp_set_row_column(row, 9, ASN_COUNTER64, &c, sizeof(c));
		netsnmp_set_row_column(row, 10, ASN_COUNTER64, &c, sizeof(c));
		netsnmp_set_row_column(row, 11, ASN_COUNTER64, &c, sizeof(c));
		netsnmp_table_dataset_add_row(t, row);
	}
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL, 1);
	init_snmp("static-table");
	while (!stop)
		agent_check_and_process(1);
	snmp_shutdown("static-table");
	return 0;
}
