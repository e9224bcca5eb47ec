/* SPDX-License-Identifier: MIT */
#ifndef WDT_FORMATS_RAW_H
#define WDT_FORMATS_RAW_H

#include "core/image.h"

/* A flat physical image: file offset = physical address, one run. */
extern const struct wdt_format wdt_format_raw;

#endif
