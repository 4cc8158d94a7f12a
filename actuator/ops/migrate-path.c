/*
 * migrate-path.c - the migration path by dirty rate (see migrate-path.h).
 */
#include "config.h"

#include "migrate-path.h"

/** vs_migrate_dirty_percent: see migrate-path.h. */
double vs_migrate_dirty_percent(double dirty_mib_per_s, double memory_mib)
{
	if (dirty_mib_per_s < 0 || memory_mib <= 0)
		return -1;
	return 100.0 * dirty_mib_per_s / memory_mib;
}

/** vs_migrate_path_choose: see migrate-path.h. */
vs_migrate_path vs_migrate_path_choose(double dirty_percent, double low, double high)
{
	if (dirty_percent < 0)
		return VS_MIGRATE_PATH_XBZRLE;
	if (dirty_percent < low)
		return VS_MIGRATE_PATH_PRECOPY;
	if (dirty_percent <= high)
		return VS_MIGRATE_PATH_XBZRLE;
	return VS_MIGRATE_PATH_POSTCOPY;
}

/** vs_migrate_path_name: see migrate-path.h. */
const char *vs_migrate_path_name(vs_migrate_path p)
{
	switch (p) {
	case VS_MIGRATE_PATH_PRECOPY:
		return "pre-copy";
	case VS_MIGRATE_PATH_XBZRLE:
		return "xbzrle";
	case VS_MIGRATE_PATH_POSTCOPY:
		return "post-copy";
	}
	return "unknown";
}
