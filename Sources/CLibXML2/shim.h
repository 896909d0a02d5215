// libxml2 as Sluice uses it: the push parser with SAX callbacks, and error reporting.
//
// libxml2 is built with ICU here, so its encoding.h includes the system's
// <unicode/ucnv.h>, whose UErrorCode clashes with the ICU that Foundation bundles
// (_FoundationICU) in any Swift file that imports both. Sluice never touches
// libxml2's ICU converter fields, so the shim hides them: xmlversion.h is read first
// (it has an include guard) and LIBXML_ICU_ENABLED is undefined before the rest.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/xmlreader.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/entities.h>
#include <libxml/xmlerror.h>
