/* test-imap-bodystructure.c: ENVELOPE, BODY and BODYSTRUCTURE of real-world-
 * shaped messages compared byte for byte with what Dovecot 2.3.19 returned
 * for the same messages, plus deep nesting bounded like Dovecot's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap-fetch-render.h"
#include "test-mime-fixtures.h"

struct expect {
	size_t fixture;
	const char *envelope, *body, *bodystructure;
};

static const struct expect expects[] = {
    {0,
     "(\"Mon, 23 Nov 2026 10:15:00 +0100\" {18}\r\n"
     "Lunch on Thursday? ((\"Alice Example\" NIL \"alice\" \"example.org\")) ((\"Alice "
     "Example\" NIL \"alice\" \"example.org\")) ((\"Alice Example\" NIL \"alice\" \"exa"
     "mple.org\")) ((\"Bob\" NIL \"bob\" \"example.com\")(NIL NIL \"carol\" \"example.n"
     "et\")) ((\"Dave, Jr.\" NIL \"dave\" \"example.com\")) NIL \"<abc@example.com>\" \""
     "<20261123101500.1234@example.org>\")",
     "(\"text\" \"plain\" (\"charset\" \"utf-8\" \"format\" \"flowed\") NIL NIL \"7bit\""
     " 48 5)",
     "(\"text\" \"plain\" (\"charset\" \"utf-8\" \"format\" \"flowed\") NIL NIL \"7bit\""
     " 48 5 NIL NIL NIL NIL)"},
    {1,
     "(\"Tue, 24 Nov 2026 08:00:00 +0000\" \"=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen"
     "?=\" ((\"Shop\" NIL \"news\" \"shop.example\")) ((\"Shop\" NIL \"news\" \"shop.ex"
     "ample\")) ((\"Shop\" NIL \"news\" \"shop.example\")) ((NIL NIL \"undisclosed-reci"
     "pients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL \"<alt.1@shop.example>\")",
     "((\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"quoted-printable\" 16 0)(\""
     "text\" \"html\" (\"charset\" \"UTF-8\") NIL NIL \"quoted-printable\" 51 1) \"alte"
     "rnative\")",
     "((\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"quoted-printable\" 16 0 NI"
     "L NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"UTF-8\") NIL NIL \"quoted-printab"
     "le\" 51 1 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"=_alt_boundary\") NIL "
     "NIL NIL)"},
    {2,
     "(\"Wed, 25 Nov 2026 12:00:00 -0500\" \"Report\" ((\"Bob\" NIL \"bob\" \"example.c"
     "om\")) ((\"Bob\" NIL \"bob\" \"example.com\")) ((\"Bob\" NIL \"bob\" \"example.co"
     "m\")) ((\"Alice\" NIL \"alice\" \"example.org\")) NIL NIL NIL \"<pdf.2@example.co"
     "m>\")",
     "((\"text\" \"plain\" (\"charset\" \"UTF-8\" \"format\" \"flowed\") NIL NIL \"7bit"
     "\" 15 1)(\"application\" \"pdf\" (\"name*\" \"utf-8''Bericht%20%C3%BCber%20das%20"
     "Jahr.pdf\") \"<part1.abc@example.com>\" \"Annual report\" \"base64\" 158) \"mixed"
     "\")",
     "((\"text\" \"plain\" (\"charset\" \"UTF-8\" \"format\" \"flowed\") NIL NIL \"7bit"
     "\" 15 1 NIL NIL NIL NIL)(\"application\" \"pdf\" (\"name*\" \"utf-8''Bericht%20%C"
     "3%BCber%20das%20Jahr.pdf\") \"<part1.abc@example.com>\" \"Annual report\" \"base6"
     "4\" 158 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"attachment\" (\"size\" \"42\" \"filename*"
     "\" \"utf-8''Bericht%20%C3%BCber%20das%20Jahr.pdf\")) (\"de\" \"en\") \"http://exa"
     "mple.com/ report.pdf\") \"mixed\" (\"boundary\" \"------------mixed01\") NIL (\"e"
     "n-US\") NIL)"},
    {3,
     "(\"Thu, 26 Nov 2026 09:30:00 +0000\" \"Newsletter with image\" ((\"Carol\" NIL \""
     "carol\" \"example.net\")) ((\"Carol\" NIL \"carol\" \"example.net\")) ((\"Carol\""
     " NIL \"carol\" \"example.net\")) ((\"Bob\" NIL \"bob\" \"example.com\")) NIL NIL "
     "NIL \"<rel.3@example.net>\")",
     "(((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 33 0)(\"image\" "
     "\"png\" (\"name\" \"logo.png\") \"<img1>\" NIL \"base64\" 98) \"related\")(\"text"
     "\" \"plain\" (\"name\" \"notes.txt\" \"charset\" \"us-ascii\") NIL NIL \"7bit\" 1"
     "8 1) \"mixed\")",
     "(((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 33 0 NIL NIL NIL"
     " NIL)(\"image\" \"png\" (\"name\" \"logo.png\") \"<img1>\" NIL \"base64\" 98 NIL "
     "(\"inline\" (\"filename\" \"logo.png\")) NIL NIL) \"related\" (\"boundary\" \"inn"
     "er\" \"type\" \"text/html\") NIL NIL NIL)(\"text\" \"plain\" (\"name\" \"notes.tx"
     "t\" \"charset\" \"us-ascii\") NIL NIL \"7bit\" 18 1 NIL (\"attachment\" (\"filena"
     "me\" \"notes.txt\")) NIL NIL) \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)"},
    {4,
     "(\"Thu, 26 Nov 2026 11:00:00 +0100\" \"Fwd: Lunch\" ((\"Dave\" NIL \"dave\" \"exa"
     "mple.com\")) ((\"Dave\" NIL \"dave\" \"example.com\")) ((\"Dave\" NIL \"dave\" \""
     "example.com\")) ((\"Alice\" NIL \"alice\" \"example.org\")) NIL NIL NIL \"<fwd.4@"
     "example.com>\")",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 16 0)(\"message\""
     " \"rfc822\" NIL NIL NIL \"7bit\" 530 (\"Wed, 25 Nov 2026 10:00:00 +0100\" \"Lunch"
     "\" ((\"Eve\" NIL \"eve\" \"example.com\")) ((NIL NIL \"sender\" \"example.com\"))"
     " ((\"Eve Replies\" NIL \"eve-reply\" \"example.com\")) ((\"Dave\" NIL \"dave\" \""
     "example.com\")(NIL NIL \"Team\" NIL)(NIL NIL \"frank\" \"example.com\")(\"Gina G\""
     " NIL \"gina\" \"example.com\")(NIL NIL NIL NIL)) NIL NIL NIL \"<orig.5@example.co"
     "m>\") ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 0)(\"te"
     "xt\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 21 0) \"alternative\") "
     "19) \"mixed\")",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 16 0 NIL NIL NIL"
     " NIL)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 530 (\"Wed, 25 Nov 2026 10:00:0"
     "0 +0100\" \"Lunch\" ((\"Eve\" NIL \"eve\" \"example.com\")) ((NIL NIL \"sender\" "
     "\"example.com\")) ((\"Eve Replies\" NIL \"eve-reply\" \"example.com\")) ((\"Dave\""
     " NIL \"dave\" \"example.com\")(NIL NIL \"Team\" NIL)(NIL NIL \"frank\" \"example."
     "com\")(\"Gina G\" NIL \"gina\" \"example.com\")(NIL NIL NIL NIL)) NIL NIL NIL \"<"
     "orig.5@example.com>\") ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \""
     "7bit\" 14 0 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL"
     " \"7bit\" 21 0 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"inner-alt\") NIL "
     "NIL NIL) 19 NIL (\"attachment\" NIL) NIL NIL) \"mixed\" (\"boundary\" \"fwd-b\") "
     "NIL NIL NIL)"},
    {5,
     "(\"26 Nov 2026 10:00 GMT\" {22}\r\n"
     "Caf\xc3"
     "\xa9"
     " \"quoted\" \\\\ back ((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \""
     "PIRARD\" \"vm1.ulg.ac.be\")) ((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \"PIRARD\""
     " \"vm1.ulg.ac.be\")) ((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \"PIRARD\" \"vm1.u"
     "lg.ac.be\")) (({15}\r\n"
     "J\xc3"
     "\xbc"
     "rgen M\xc3"
     "\xbc"
     "ller NIL \"juergen\" \"example.de\")) NIL NIL NIL "
     "NIL)",
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 37 2)",
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 37 2 NIL NIL NIL "
     "NIL)"},
    {6,
     "(NIL \"bad boundaries\" ((NIL NIL \"x\" \"example.com\")) ((NIL NIL \"x\" \"examp"
     "le.com\")) ((NIL NIL \"x\" \"example.com\")) NIL NIL NIL NIL NIL)",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)(\"text\" \""
     "plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 34 1) \"mixed\")",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL "
     "NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 34 1 NIL NIL "
     "NIL NIL) \"mixed\" (\"boundary\" \"abc\") NIL NIL NIL)"},
    {7,
     "(NIL \"no boundary\" ((NIL NIL \"x\" \"example.com\")) ((NIL NIL \"x\" \"example."
     "com\")) ((NIL NIL \"x\" \"example.com\")) NIL NIL NIL NIL NIL)",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) \"mixed\")",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL "
     "NIL) \"mixed\" NIL NIL NIL NIL)"},
    {8,
     "(NIL \"empty multipart\" ((NIL NIL \"x\" \"example.com\")) ((NIL NIL \"x\" \"exam"
     "ple.com\")) ((NIL NIL \"x\" \"example.com\")) NIL NIL NIL NIL NIL)",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) \"mixed\")",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL "
     "NIL) \"mixed\" (\"boundary\" \"zz\") NIL NIL NIL)"},
    {9,
     "(NIL \"digest\" ((NIL NIL \"list\" \"example.com\")) ((NIL NIL \"list\" \"example"
     ".com\")) ((NIL NIL \"list\" \"example.com\")) NIL NIL NIL NIL NIL)",
     "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 42 (NIL \"one\" ((NIL NIL \"a\" \"e"
     "xample.com\")) ((NIL NIL \"a\" \"example.com\")) ((NIL NIL \"a\" \"example.com\")"
     ") NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7"
     "bit\" 5 0) 3)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 15 0"
     ") \"digest\")",
     "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 42 (NIL \"one\" ((NIL NIL \"a\" \"e"
     "xample.com\")) ((NIL NIL \"a\" \"example.com\")) ((NIL NIL \"a\" \"example.com\")"
     ") NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7"
     "bit\" 5 0 NIL NIL NIL NIL) 3 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"u"
     "s-ascii\") NIL NIL \"7bit\" 15 0 NIL NIL NIL NIL) \"digest\" (\"boundary\" \"dg\""
     ") NIL NIL NIL)"},
    {10,
     "(NIL \"crlf stored\" ((NIL NIL \"y\" \"example.com\")) ((NIL NIL \"y\" \"example."
     "com\")) ((NIL NIL \"y\" \"example.com\")) NIL NIL NIL NIL NIL)",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 0) \"mixed\")",
     "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 0 NIL NIL NIL "
     "NIL) \"mixed\" (\"boundary\" \"c\") NIL NIL NIL)"},
    {11,
     "(\"Mon, 1 Jan 2024 00:00:00 +0000\" \"second subject ignored\" (({14}\r\n"
     "Quote \"Me\" Now NIL \"q\" \"example.com\")) ((NIL NIL \"noat\" \"MISSING_DOMAIN\""
     ")(NIL \"@route1,@route2\" \"routed\" \"example.com\")) ((NIL NIL \"a.b.c\" \"[127"
     ".0.0.1]\")) (({22}\r\n"
     "Back\\slash \"a\" \"b\" \"c\" NIL \"bs\" \"example.com\")(\"John Q. Public\" NIL "
     "\"jqp\" \"example.com\")(NIL NIL \"plainuser\" \"MISSING_DOMAIN\")) ((NIL NIL \"g"
     "roup1\" NIL)(NIL NIL NIL NIL)(NIL NIL \"x\" \"y.example\")) ((NIL NIL \"MISSING_M"
     "AILBOX\" \"MISSING_DOMAIN\")(NIL NIL \"empty\" \"example.com\")) \"<a@b> <c@d>\" "
     "\"<noblank@example.com>\")",
     "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"ISO-8859-1\" \"NAME\" \"a \\\"b\\\".txt\") NIL"
     " NIL \"QUOTED-PRINTABLE\" 3 1)",
     "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"ISO-8859-1\" \"NAME\" \"a \\\"b\\\".txt\") NIL"
     " NIL \"QUOTED-PRINTABLE\" 3 1 NIL NIL NIL NIL)"},
    {12,
     "(NIL NIL ((NIL NIL \"a\" \"example.com\")) ((NIL NIL \"a\" \"example.com\")) ((NI"
     "L NIL \"a\" \"example.com\")) NIL NIL NIL NIL NIL)",
     "((\"application\" \"octet-stream\" (\"name\" \"first-second.bin\" \"title*\" \"us"
     "-ascii'en'This%20is%20it\") NIL NIL \"7bit\" 4)(\"text\" \"\" (\"charset\" \"us-a"
     "scii\") NIL NIL \"7bit\" 11 0)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 0 (NIL"
     " NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii"
     "\") NIL NIL \"7bit\" 0 0) 0) \"mixed\")",
     "((\"application\" \"octet-stream\" (\"name\" \"first-second.bin\" \"title*\" \"us"
     "-ascii'en'This%20is%20it\") NIL NIL \"7bit\" 4 NIL (\"attachment\" (\"filename\" "
     "\"very-long-name.bin\")) NIL NIL)(\"text\" \"\" (\"charset\" \"us-ascii\") NIL NI"
     "L \"7bit\" 11 0 NIL (\"inline\" NIL) NIL NIL)(\"message\" \"rfc822\" NIL NIL NIL "
     "\"7bit\" 0 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"chars"
     "et\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) 0 NIL NIL NIL NIL) \"mix"
     "ed\" (\"boundary\" \"X\") NIL NIL NIL)"},
    {13,
     "(NIL \"no body at all\" ((NIL NIL \"a\" \"example.com\")) ((NIL NIL \"a\" \"examp"
     "le.com\")) ((NIL NIL \"a\" \"example.com\")) NIL NIL NIL NIL NIL)",
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)",
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL N"
     "IL)"},
    {14, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)",
     "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL N"
     "IL)"},
    {15, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
     "(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0)(\"text\" \""
     "plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0) \"alternative\")(\"text\""
     " \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0) \"mixed\")",
     "(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0 NIL NIL NIL"
     " NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0 NIL NIL "
     "NIL NIL) \"alternative\" (\"boundary\" \"abc\") NIL NIL NIL)(\"text\" \"plain\" ("
     "\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0 NIL NIL NIL NIL) \"mixed\" (\"boun"
     "dary\" \"ab\") NIL NIL NIL)"},
    {16, "(NIL \"level 0\" NIL NIL NIL NIL NIL NIL NIL NIL)",
     "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 1247 (NIL \"level 1\" NIL NIL NIL NI"
     "L NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 1197 (NIL \"level"
     " 2\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\""
     " 1147 (NIL \"level 3\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" N"
     "IL NIL NIL \"7bit\" 1097 (NIL \"level 4\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"mes"
     "sage\" \"rfc822\" NIL NIL NIL \"7bit\" 1047 (NIL \"level 5\" NIL NIL NIL NIL NIL "
     "NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 997 (NIL \"level 6\" NI"
     "L NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 947 ("
     "NIL \"level 7\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL "
     "NIL \"7bit\" 897 (NIL \"level 8\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \""
     "rfc822\" NIL NIL NIL \"7bit\" 847 (NIL \"level 9\" NIL NIL NIL NIL NIL NIL NIL NI"
     "L) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 797 (NIL \"level 10\" NIL NIL NIL"
     " NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 746 (NIL \"lev"
     "el 11\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7b"
     "it\" 695 (NIL \"level 12\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822"
     "\" NIL NIL NIL \"7bit\" 644 (NIL \"level 13\" NIL NIL NIL NIL NIL NIL NIL NIL) (\""
     "message\" \"rfc822\" NIL NIL NIL \"7bit\" 593 (NIL \"level 14\" NIL NIL NIL NIL N"
     "IL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 542 (NIL \"level 15\""
     " NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 49"
     "1 (NIL \"level 16\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL "
     "NIL NIL \"7bit\" 440 (NIL \"level 17\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"messag"
     "e\" \"rfc822\" NIL NIL NIL \"7bit\" 389 (NIL \"level 18\" NIL NIL NIL NIL NIL NIL"
     " NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 338 (NIL \"level 19\" NIL "
     "NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 287 (NI"
     "L \"level 20\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL N"
     "IL \"7bit\" 236 (NIL \"level 21\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \""
     "rfc822\" NIL NIL NIL \"7bit\" 185 (NIL \"level 22\" NIL NIL NIL NIL NIL NIL NIL N"
     "IL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 134 (NIL \"level 23\" NIL NIL NI"
     "L NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 83 (NIL \"lev"
     "el 24\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7b"
     "it\" 32 (NIL \"bottom\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"c"
     "harset\" \"us-ascii\") NIL NIL \"7bit\" 13 1) 3) 6) 9) 12) 15) 18) 21) 24) 27) 30"
     ") 33) 36) 39) 42) 45) 48) 51) 54) 57) 60) 63) 66) 69) 72) 75)",
     "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 1247 (NIL \"level 1\" NIL NIL NIL NI"
     "L NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 1197 (NIL \"level"
     " 2\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\""
     " 1147 (NIL \"level 3\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" N"
     "IL NIL NIL \"7bit\" 1097 (NIL \"level 4\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"mes"
     "sage\" \"rfc822\" NIL NIL NIL \"7bit\" 1047 (NIL \"level 5\" NIL NIL NIL NIL NIL "
     "NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 997 (NIL \"level 6\" NI"
     "L NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 947 ("
     "NIL \"level 7\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL "
     "NIL \"7bit\" 897 (NIL \"level 8\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \""
     "rfc822\" NIL NIL NIL \"7bit\" 847 (NIL \"level 9\" NIL NIL NIL NIL NIL NIL NIL NI"
     "L) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 797 (NIL \"level 10\" NIL NIL NIL"
     " NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 746 (NIL \"lev"
     "el 11\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7b"
     "it\" 695 (NIL \"level 12\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822"
     "\" NIL NIL NIL \"7bit\" 644 (NIL \"level 13\" NIL NIL NIL NIL NIL NIL NIL NIL) (\""
     "message\" \"rfc822\" NIL NIL NIL \"7bit\" 593 (NIL \"level 14\" NIL NIL NIL NIL N"
     "IL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 542 (NIL \"level 15\""
     " NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 49"
     "1 (NIL \"level 16\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL "
     "NIL NIL \"7bit\" 440 (NIL \"level 17\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"messag"
     "e\" \"rfc822\" NIL NIL NIL \"7bit\" 389 (NIL \"level 18\" NIL NIL NIL NIL NIL NIL"
     " NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 338 (NIL \"level 19\" NIL "
     "NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 287 (NI"
     "L \"level 20\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL N"
     "IL \"7bit\" 236 (NIL \"level 21\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \""
     "rfc822\" NIL NIL NIL \"7bit\" 185 (NIL \"level 22\" NIL NIL NIL NIL NIL NIL NIL N"
     "IL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 134 (NIL \"level 23\" NIL NIL NI"
     "L NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 83 (NIL \"lev"
     "el 24\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"message\" \"rfc822\" NIL NIL NIL \"7b"
     "it\" 32 (NIL \"bottom\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"c"
     "harset\" \"us-ascii\") NIL NIL \"7bit\" 13 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL) "
     "6 NIL NIL NIL NIL) 9 NIL NIL NIL NIL) 12 NIL NIL NIL NIL) 15 NIL NIL NIL NIL) 18 "
     "NIL NIL NIL NIL) 21 NIL NIL NIL NIL) 24 NIL NIL NIL NIL) 27 NIL NIL NIL NIL) 30 N"
     "IL NIL NIL NIL) 33 NIL NIL NIL NIL) 36 NIL NIL NIL NIL) 39 NIL NIL NIL NIL) 42 NI"
     "L NIL NIL NIL) 45 NIL NIL NIL NIL) 48 NIL NIL NIL NIL) 51 NIL NIL NIL NIL) 54 NIL"
     " NIL NIL NIL) 57 NIL NIL NIL NIL) 60 NIL NIL NIL NIL) 63 NIL NIL NIL NIL) 66 NIL "
     "NIL NIL NIL) 69 NIL NIL NIL NIL) 72 NIL NIL NIL NIL) 75 NIL NIL NIL NIL)"},
};

static void assert_render(const struct mime_message *m, int what, const char *want,
                          const char *name)
{
	struct buf b;

	buf_init(&b, 0);
	int ret = what == 0   ? imap_envelope_render(m, m->root, &b)
	          : what == 1 ? imap_bodystructure_render(m, m->root, false, &b)
	                      : imap_bodystructure_render(m, m->root, true, &b);
	assert_int_equal(ret, 0);
	if (strcmp(b.data, want) != 0)
		fprintf(stderr, "%s (%d):\n got: %s\nwant: %s\n", name, what, b.data, want);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void test_dovecot_reference(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
		const struct mime_fixture *f = &mime_fixtures[expects[i].fixture];
		struct mime_message *m = mime_parse(f->data, strlen(f->data));
		assert_non_null(m);
		assert_render(m, 0, expects[i].envelope, f->name);
		assert_render(m, 1, expects[i].body, f->name);
		assert_render(m, 2, expects[i].bodystructure, f->name);
		mime_message_free(m);
	}
}

/* n nested multiparts with boundaries b0..b(n-1), a text part inside. */
static char *nested(int n, bool close)
{
	struct buf b;

	buf_init(&b, 0);
	for (int i = 0; i < n; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i);
	buf_append_str(&b, "Content-Type: text/plain\n\ndeep\n");
	for (int i = n - 1; close && i >= 0; i--)
		buf_printf(&b, "--b%d--\n", i);
	return buf_steal(&b);
}

static char *render_bs(const char *msg)
{
	struct mime_message *m = mime_parse(msg, strlen(msg));
	struct buf b;

	assert_non_null(m);
	buf_init(&b, 0);
	assert_int_equal(imap_bodystructure_render(m, m->root, true, &b), 0);
	mime_message_free(m);
	return buf_steal(&b);
}

static void test_nested_30(void **state)
{
	(void)state;
	char *msg = nested(30, true), *bs = render_bs(msg);
	assert_string_equal(
	    bs, "(((((((((((((((((((((((((((((((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL "
	        "NIL \"7bit\" 4 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b29\") NIL NIL NIL) \""
	        "mixed\" (\"boundary\" \"b28\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b27\") NIL "
	        "NIL NIL) \"mixed\" (\"boundary\" \"b26\") NIL NIL NIL) \"mixed\" (\"boundary\" \""
	        "b25\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b24\") NIL NIL NIL) \"mixed\" (\"bo"
	        "undary\" \"b23\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b22\") NIL NIL NIL) \"mi"
	        "xed\" (\"boundary\" \"b21\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b20\") NIL NI"
	        "L NIL) \"mixed\" (\"boundary\" \"b19\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b1"
	        "8\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b17\") NIL NIL NIL) \"mixed\" (\"boun"
	        "dary\" \"b16\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b15\") NIL NIL NIL) \"mixe"
	        "d\" (\"boundary\" \"b14\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b13\") NIL NIL "
	        "NIL) \"mixed\" (\"boundary\" \"b12\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b11\""
	        ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b10\") NIL NIL NIL) \"mixed\" (\"boundar"
	        "y\" \"b9\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b8\") NIL NIL NIL) \"mixed\" ("
	        "\"boundary\" \"b7\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b6\") NIL NIL NIL) \""
	        "mixed\" (\"boundary\" \"b5\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b4\") NIL NI"
	        "L NIL) \"mixed\" (\"boundary\" \"b3\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b2\""
	        ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL) \"mixed\" (\"boundary"
	        "\" \"b0\") NIL NIL NIL)");
	free(bs);
	free(msg);
}

/* 1000 levels: parsing stops at MIME_MAX_DEPTH; the part there becomes
 * application/octet-stream, exactly as Dovecot renders it. */
static void test_nested_1000(void **state)
{
	(void)state;
	char *msg = nested(1000, false), *bs = render_bs(msg);
	const char *want =
	    "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
	    "(((((((((((((((((((\"application\" \"octet-stream\" (\"boundary\" \"b99\") NIL NI"
	    "L \"7bit\" 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b98\") NIL NIL NIL) \"mix"
	    "ed\" (\"boundary\" \"b97\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b96\") NIL NIL"
	    " NIL) \"mixed\" (\"boundary\" \"b95\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b94"
	    "\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b93\") NIL NIL NIL) \"mixed\" (\"bound"
	    "ary\" \"b92\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b91\") NIL NIL NIL) \"mixed"
	    "\" (\"boundary\" \"b90\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b89\") NIL NIL N"
	    "IL) \"mixed\" (\"boundary\" \"b88\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b87\""
	    ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b86\") NIL NIL NIL) \"mixed\" (\"boundar"
	    "y\" \"b85\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b84\") NIL NIL NIL) \"mixed\""
	    " (\"boundary\" \"b83\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b82\") NIL NIL NIL"
	    ") \"mixed\" (\"boundary\" \"b81\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b80\") "
	    "NIL NIL NIL) \"mixed\" (\"boundary\" \"b79\") NIL NIL NIL) \"mixed\" (\"boundary\""
	    " \"b78\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b77\") NIL NIL NIL) \"mixed\" (\""
	    "boundary\" \"b76\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b75\") NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"b74\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b73\") NIL "
	    "NIL NIL) \"mixed\" (\"boundary\" \"b72\") NIL NIL NIL) \"mixed\" (\"boundary\" \""
	    "b71\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b70\") NIL NIL NIL) \"mixed\" (\"bo"
	    "undary\" \"b69\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b68\") NIL NIL NIL) \"mi"
	    "xed\" (\"boundary\" \"b67\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b66\") NIL NI"
	    "L NIL) \"mixed\" (\"boundary\" \"b65\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b6"
	    "4\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b63\") NIL NIL NIL) \"mixed\" (\"boun"
	    "dary\" \"b62\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b61\") NIL NIL NIL) \"mixe"
	    "d\" (\"boundary\" \"b60\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b59\") NIL NIL "
	    "NIL) \"mixed\" (\"boundary\" \"b58\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b57\""
	    ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b56\") NIL NIL NIL) \"mixed\" (\"boundar"
	    "y\" \"b55\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b54\") NIL NIL NIL) \"mixed\""
	    " (\"boundary\" \"b53\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b52\") NIL NIL NIL"
	    ") \"mixed\" (\"boundary\" \"b51\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b50\") "
	    "NIL NIL NIL) \"mixed\" (\"boundary\" \"b49\") NIL NIL NIL) \"mixed\" (\"boundary\""
	    " \"b48\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b47\") NIL NIL NIL) \"mixed\" (\""
	    "boundary\" \"b46\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b45\") NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"b44\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b43\") NIL "
	    "NIL NIL) \"mixed\" (\"boundary\" \"b42\") NIL NIL NIL) \"mixed\" (\"boundary\" \""
	    "b41\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b40\") NIL NIL NIL) \"mixed\" (\"bo"
	    "undary\" \"b39\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b38\") NIL NIL NIL) \"mi"
	    "xed\" (\"boundary\" \"b37\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b36\") NIL NI"
	    "L NIL) \"mixed\" (\"boundary\" \"b35\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b3"
	    "4\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b33\") NIL NIL NIL) \"mixed\" (\"boun"
	    "dary\" \"b32\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b31\") NIL NIL NIL) \"mixe"
	    "d\" (\"boundary\" \"b30\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b29\") NIL NIL "
	    "NIL) \"mixed\" (\"boundary\" \"b28\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b27\""
	    ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b26\") NIL NIL NIL) \"mixed\" (\"boundar"
	    "y\" \"b25\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b24\") NIL NIL NIL) \"mixed\""
	    " (\"boundary\" \"b23\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b22\") NIL NIL NIL"
	    ") \"mixed\" (\"boundary\" \"b21\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b20\") "
	    "NIL NIL NIL) \"mixed\" (\"boundary\" \"b19\") NIL NIL NIL) \"mixed\" (\"boundary\""
	    " \"b18\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b17\") NIL NIL NIL) \"mixed\" (\""
	    "boundary\" \"b16\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b15\") NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"b14\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b13\") NIL "
	    "NIL NIL) \"mixed\" (\"boundary\" \"b12\") NIL NIL NIL) \"mixed\" (\"boundary\" \""
	    "b11\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b10\") NIL NIL NIL)(((((((((((((((("
	    "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((\"appli"
	    "cation\" \"octet-stream\" (\"boundary\" \"b189\") NIL NIL \"7bit\" 0 NIL NIL NIL "
	    "NIL) \"mixed\" (\"boundary\" \"b188\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b18"
	    "7\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b186\") NIL NIL NIL) \"mixed\" (\"bou"
	    "ndary\" \"b185\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b184\") NIL NIL NIL) \"m"
	    "ixed\" (\"boundary\" \"b183\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b182\") NIL"
	    " NIL NIL) \"mixed\" (\"boundary\" \"b181\") NIL NIL NIL) \"mixed\" (\"boundary\" "
	    "\"b180\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b179\") NIL NIL NIL) \"mixed\" ("
	    "\"boundary\" \"b178\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b177\") NIL NIL NIL"
	    ") \"mixed\" (\"boundary\" \"b176\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b175\""
	    ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b174\") NIL NIL NIL) \"mixed\" (\"bounda"
	    "ry\" \"b173\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b172\") NIL NIL NIL) \"mixe"
	    "d\" (\"boundary\" \"b171\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b170\") NIL NI"
	    "L NIL) \"mixed\" (\"boundary\" \"b169\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b"
	    "168\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b167\") NIL NIL NIL) \"mixed\" (\"b"
	    "oundary\" \"b166\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b165\") NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"b164\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b163\") NI"
	    "L NIL NIL) \"mixed\" (\"boundary\" \"b162\") NIL NIL NIL) \"mixed\" (\"boundary\""
	    " \"b161\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b160\") NIL NIL NIL) \"mixed\" "
	    "(\"boundary\" \"b159\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b158\") NIL NIL NI"
	    "L) \"mixed\" (\"boundary\" \"b157\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b156\""
	    ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b155\") NIL NIL NIL) \"mixed\" (\"bounda"
	    "ry\" \"b154\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b153\") NIL NIL NIL) \"mixe"
	    "d\" (\"boundary\" \"b152\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b151\") NIL NI"
	    "L NIL) \"mixed\" (\"boundary\" \"b150\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b"
	    "149\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b148\") NIL NIL NIL) \"mixed\" (\"b"
	    "oundary\" \"b147\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b146\") NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"b145\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b144\") NI"
	    "L NIL NIL) \"mixed\" (\"boundary\" \"b143\") NIL NIL NIL) \"mixed\" (\"boundary\""
	    " \"b142\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b141\") NIL NIL NIL) \"mixed\" "
	    "(\"boundary\" \"b140\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b139\") NIL NIL NI"
	    "L) \"mixed\" (\"boundary\" \"b138\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b137\""
	    ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b136\") NIL NIL NIL) \"mixed\" (\"bounda"
	    "ry\" \"b135\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b134\") NIL NIL NIL) \"mixe"
	    "d\" (\"boundary\" \"b133\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b132\") NIL NI"
	    "L NIL) \"mixed\" (\"boundary\" \"b131\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b"
	    "130\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b129\") NIL NIL NIL) \"mixed\" (\"b"
	    "oundary\" \"b128\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b127\") NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"b126\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b125\") NI"
	    "L NIL NIL) \"mixed\" (\"boundary\" \"b124\") NIL NIL NIL) \"mixed\" (\"boundary\""
	    " \"b123\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b122\") NIL NIL NIL) \"mixed\" "
	    "(\"boundary\" \"b121\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b120\") NIL NIL NI"
	    "L) \"mixed\" (\"boundary\" \"b119\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b118\""
	    ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b117\") NIL NIL NIL) \"mixed\" (\"bounda"
	    "ry\" \"b116\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b115\") NIL NIL NIL) \"mixe"
	    "d\" (\"boundary\" \"b114\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b113\") NIL NI"
	    "L NIL) \"mixed\" (\"boundary\" \"b112\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b"
	    "111\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b110\") NIL NIL NIL) \"mixed\" (\"b"
	    "oundary\" \"b109\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b108\") NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"b107\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b106\") NI"
	    "L NIL NIL) \"mixed\" (\"boundary\" \"b105\") NIL NIL NIL) \"mixed\" (\"boundary\""
	    " \"b104\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b103\") NIL NIL NIL) \"mixed\" "
	    "(\"boundary\" \"b102\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b101\") NIL NIL NI"
	    "L) \"mixed\" (\"boundary\" \"b100\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b9\")"
	    " NIL NIL NIL) \"mixed\" (\"boundary\" \"b8\") NIL NIL NIL) \"mixed\" (\"boundary\""
	    " \"b7\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b6\") NIL NIL NIL) \"mixed\" (\"b"
	    "oundary\" \"b5\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b4\") NIL NIL NIL) \"mix"
	    "ed\" (\"boundary\" \"b3\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b2\") NIL NIL N"
	    "IL)(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
	    "((((((((((((((((((((\"application\" \"octet-stream\" (\"boundary\" \"b287\") NIL "
	    "NIL \"7bit\" 41338 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b286\") NIL NIL NIL"
	    ") \"mixed\" (\"boundary\" \"b285\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b284\""
	    ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b283\") NIL NIL NIL) \"mixed\" (\"bounda"
	    "ry\" \"b282\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b281\") NIL NIL NIL) \"mixe"
	    "d\" (\"boundary\" \"b280\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b279\") NIL NI"
	    "L NIL) \"mixed\" (\"boundary\" \"b278\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b"
	    "277\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b276\") NIL NIL NIL) \"mixed\" (\"b"
	    "oundary\" \"b275\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b274\") NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"b273\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b272\") NI"
	    "L NIL NIL) \"mixed\" (\"boundary\" \"b271\") NIL NIL NIL) \"mixed\" (\"boundary\""
	    " \"b270\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b269\") NIL NIL NIL) \"mixed\" "
	    "(\"boundary\" \"b268\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b267\") NIL NIL NI"
	    "L) \"mixed\" (\"boundary\" \"b266\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b265\""
	    ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b264\") NIL NIL NIL) \"mixed\" (\"bounda"
	    "ry\" \"b263\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b262\") NIL NIL NIL) \"mixe"
	    "d\" (\"boundary\" \"b261\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b260\") NIL NI"
	    "L NIL) \"mixed\" (\"boundary\" \"b259\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b"
	    "258\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b257\") NIL NIL NIL) \"mixed\" (\"b"
	    "oundary\" \"b256\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b255\") NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"b254\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b253\") NI"
	    "L NIL NIL) \"mixed\" (\"boundary\" \"b252\") NIL NIL NIL) \"mixed\" (\"boundary\""
	    " \"b251\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b250\") NIL NIL NIL) \"mixed\" "
	    "(\"boundary\" \"b249\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b248\") NIL NIL NI"
	    "L) \"mixed\" (\"boundary\" \"b247\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b246\""
	    ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b245\") NIL NIL NIL) \"mixed\" (\"bounda"
	    "ry\" \"b244\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b243\") NIL NIL NIL) \"mixe"
	    "d\" (\"boundary\" \"b242\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b241\") NIL NI"
	    "L NIL) \"mixed\" (\"boundary\" \"b240\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b"
	    "239\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b238\") NIL NIL NIL) \"mixed\" (\"b"
	    "oundary\" \"b237\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b236\") NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"b235\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b234\") NI"
	    "L NIL NIL) \"mixed\" (\"boundary\" \"b233\") NIL NIL NIL) \"mixed\" (\"boundary\""
	    " \"b232\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b231\") NIL NIL NIL) \"mixed\" "
	    "(\"boundary\" \"b230\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b229\") NIL NIL NI"
	    "L) \"mixed\" (\"boundary\" \"b228\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b227\""
	    ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b226\") NIL NIL NIL) \"mixed\" (\"bounda"
	    "ry\" \"b225\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b224\") NIL NIL NIL) \"mixe"
	    "d\" (\"boundary\" \"b223\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b222\") NIL NI"
	    "L NIL) \"mixed\" (\"boundary\" \"b221\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b"
	    "220\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b219\") NIL NIL NIL) \"mixed\" (\"b"
	    "oundary\" \"b218\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b217\") NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"b216\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b215\") NI"
	    "L NIL NIL) \"mixed\" (\"boundary\" \"b214\") NIL NIL NIL) \"mixed\" (\"boundary\""
	    " \"b213\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b212\") NIL NIL NIL) \"mixed\" "
	    "(\"boundary\" \"b211\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b210\") NIL NIL NI"
	    "L) \"mixed\" (\"boundary\" \"b209\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b208\""
	    ") NIL NIL NIL) \"mixed\" (\"boundary\" \"b207\") NIL NIL NIL) \"mixed\" (\"bounda"
	    "ry\" \"b206\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b205\") NIL NIL NIL) \"mixe"
	    "d\" (\"boundary\" \"b204\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b203\") NIL NI"
	    "L NIL) \"mixed\" (\"boundary\" \"b202\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b"
	    "201\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b200\") NIL NIL NIL) \"mixed\" (\"b"
	    "oundary\" \"b199\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b198\") NIL NIL NIL) \""
	    "mixed\" (\"boundary\" \"b197\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b196\") NI"
	    "L NIL NIL) \"mixed\" (\"boundary\" \"b195\") NIL NIL NIL) \"mixed\" (\"boundary\""
	    " \"b194\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b193\") NIL NIL NIL) \"mixed\" "
	    "(\"boundary\" \"b192\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b191\") NIL NIL NI"
	    "L) \"mixed\" (\"boundary\" \"b190\") NIL NIL NIL) \"mixed\" (\"boundary\" \"b1\")"
	    " NIL NIL NIL) \"mixed\" (\"boundary\" \"b0\") NIL NIL NIL)";
	assert_string_equal(bs, want);
	int level = 0, max = 0;
	for (const char *p = bs; *p != '\0'; p++) {
		level += *p == '(' ? 1 : *p == ')' ? -1 : 0;
		max = level > max ? level : max;
	}
	assert_int_equal(level, 0);
	assert_true(max <= MIME_MAX_DEPTH + 3);
	free(bs);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dovecot_reference),
	    cmocka_unit_test(test_nested_30),
	    cmocka_unit_test(test_nested_1000),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
