/*
 * libFuzzer harness for what a client controls: message framing
 * (struct msgbuf), Varlink/JSON parsing (varlink.c) and request
 * validation (manager.c), linked with the daemon's real code and the
 * stand-ins in stubs.c for the socket, the jobs and the engine.
 *
 * An input is two header bytes and then the byte stream a client sends:
 *
 *   byte 0   FUZZ_* flags (fuzz.h): who the caller is, how job_submit
 *            answers, whether jobs end at once, stream progress, or are
 *            cut off by a hang-up at the end
 *   byte 1   bit 7: the loop runs without io_uring (GetStatus);
 *            bits 0-6: 0 feeds the stream whole, n feeds it in pieces of
 *            1..8n bytes (sizes from a PRNG seeded by the input)
 *   rest     NUL-terminated Varlink messages, as on the socket
 *
 * Calls that stay open (Wait, Cancel, Copy or Wait with "more") end when
 * their job finishes: right after the call (FUZZ_END_NOW), when the
 * receive buffer is full, or at the end of the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "control.h"
#include "cpd-protocol.h"
#include "varlink.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
xorshift32(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn	 conn = { 0 };
	unsigned	 flags, piece;
	uint32_t	 rng;

	if (size < 2)
		return 0;
	flags = data[0] | ((data[1] & 0x80) ? FUZZ_FALLBACK : 0);
	piece = (data[1] & 0x7f) * 8u;
	rng = 0x9e3779b9u ^ (uint32_t)size ^ ((uint32_t)data[1] << 16);
	data += 2;
	size -= 2;

	fuzz_setup(flags);
	while (size > 0 && !conn.closing) {
		size_t	 room, n;
		char	*p = msgbuf_space(&conn.in, &room);

		if (p == NULL) {
			/*
			 * Full, with a call open: the daemon reads no more
			 * until the job the call waits for ends.
			 */
			if (conn.call && fuzz_finish_watched())
				continue;
			break;
		}
		n = piece ? 1 + xorshift32(&rng) % piece : size;
		if (n > room)
			n = room;
		if (n > size)
			n = size;
		memcpy(p, data, n);
		conn.in.len += n;
		data += n;
		size -= n;
		fuzz_conn_process(&conn);
		if (flags & FUZZ_PROGRESS)
			fuzz_progress();
	}

	/* The client is done sending. */
	conn.eof = true;
	if (flags & FUZZ_ABORT)
		control_close(&conn, "hung up");
	fuzz_conn_process(&conn);
	while (!conn.closing && fuzz_finish_watched())
		;
	control_close(&conn, "end of the input");
	msgbuf_free(&conn.in);
	fuzz_teardown();
	return 0;
}
