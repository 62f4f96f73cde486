#include "ops/progress.h"

const char *ops_phase_name(enum ops_phase p)
{
	static const char *const names[OPS_PHASE_COUNT] = {"read", "erase", "program", "verify", "link", "confirm"};
	return (unsigned)p < OPS_PHASE_COUNT ? names[p] : "?";
}
