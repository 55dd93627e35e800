/*
 * mslimits.c - the limits in force (see mslimits.h).
 */
#include "mslimits.h"

static ms_limits current = {
	LIMIT_MESSAGE_SIZE_DEFAULT,
	LIMIT_HEADER_SECTION_DEFAULT,
	LIMIT_HEADER_FIELD_DEFAULT,
	LIMIT_MIME_DEPTH_DEFAULT,
	LIMIT_MIME_PARTS_DEFAULT,
	LIMIT_CRYPTO_LAYERS_DEFAULT,
};

const ms_limits *
limits_get(void)
{
	return &current;
}

void
limits_set(const ms_limits *limits)
{
	current = *limits;
}
