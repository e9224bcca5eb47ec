/* SPDX-License-Identifier: MIT */
/*
 * symbols/download.c's pure parts: which protocols a redirect may lead
 * to. (Downloads themselves are tested against a real server in
 * test_symstore.c and tests/integration/t0755.)
 */
#include "testutil.h"

#include "symbols/download.h"

static void https_stays_https(void **state)
{
	(void)state;
	assert_string_equal(wdt_download_redirect_protocols(
				"https://msdl.microsoft.com/download/symbols"),
			    "https");
	assert_string_equal(
	    wdt_download_redirect_protocols("https://127.0.0.1:8443/x"),
	    "https");
	/* the scheme in any case */
	assert_string_equal(wdt_download_redirect_protocols("HTTPS://host/x"),
			    "https");
	assert_string_equal(wdt_download_redirect_protocols("hTtPs://host/x"),
			    "https");
	/* "https:" with odd slashes is still https to curl */
	assert_string_equal(wdt_download_redirect_protocols("https:/host/x"),
			    "https");
	assert_string_equal(wdt_download_redirect_protocols("https:host"),
			    "https");
}

static void http_may_go_to_https(void **state)
{
	(void)state;
	assert_string_equal(
	    wdt_download_redirect_protocols("http://127.0.0.1:8080/store"),
	    "http,https");
	assert_string_equal(wdt_download_redirect_protocols("HTTP://host/x"),
			    "http,https");
}

static void garbage_is_not_https(void **state)
{
	(void)state;
	/* Not an https URL: the permissive answer, which
	 * CURLOPT_PROTOCOLS_STR ("http,https") still bounds. */
	assert_string_equal(wdt_download_redirect_protocols(""), "http,https");
	assert_string_equal(wdt_download_redirect_protocols("https"),
			    "http,https");
	assert_string_equal(wdt_download_redirect_protocols("httpsx://host"),
			    "http,https");
	assert_string_equal(wdt_download_redirect_protocols(" https://host"),
			    "http,https");
	assert_string_equal(wdt_download_redirect_protocols("ftp://host/x"),
			    "http,https");
	assert_string_equal(wdt_download_redirect_protocols("/srv/symbols"),
			    "http,https");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(https_stays_https),
	    cmocka_unit_test(http_may_go_to_https),
	    cmocka_unit_test(garbage_is_not_https),
	};
	return cmocka_run_group_tests_name("symbols/download", tests, NULL,
					   NULL);
}
