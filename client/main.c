/* cpd-client: everything but main() lives in the other files. */
#include "client.h"

int
main(int argc, char **argv)
{
	return client_main(argc, argv);
}
