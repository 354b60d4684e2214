#!/usr/bin/env bash
# Builds a HotSpot disassembler plugin on Debian's Capstone, so that C2's machine code for a kernel can be read:
#   sudo apt-get install -y libcapstone-dev gcc
#   backend-cpu-vector/hsdis.sh                      # installs hsdis-amd64.so into $JAVA_HOME/lib/server
#   backend-cpu-vector/jmh.sh GemmBenchmark -p rows=256 -p path=gemm -wi 3 -i 1 \
#       -jvmArgsAppend "-XX:+UnlockDiagnosticVMOptions -XX:CompileCommand=print,dev.floe.backend.cpu.Gemm::tile4x4"
# (Debian's libhsdis0-fcml exports only the pre-JDK 13 entry point, which JDK 25 no longer calls.) A development
# aid only: nothing in the build or the tests needs it.
set -euo pipefail
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/hsdis.c" <<'C'
#include <stdint.h>
#include <capstone/capstone.h>
typedef void *(*event_fn)(void *, const char *, void *);
typedef int (*print_fn)(void *, const char *, ...);
static void *no_event(void *stream, const char *event, void *arg) { return 0; }
/* The entry point HotSpot (JDK 13 and later) looks up: decode [buffer, buffer + length) as x86-64, Intel syntax. */
void *decode_instructions_virtual(uintptr_t start_va, uintptr_t end_va, unsigned char *buffer, uintptr_t length,
                                  event_fn event, void *event_stream, print_fn print, void *print_stream,
                                  const char *options, int newline) {
  csh cs;
  cs_insn *insn;
  if (!event) event = no_event;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) return 0;
  cs_option(cs, CS_OPT_SYNTAX, CS_OPT_SYNTAX_INTEL);
  cs_option(cs, CS_OPT_SKIPDATA, CS_OPT_ON);
  size_t n = cs_disasm(cs, buffer, length, (uintptr_t) buffer, 0, &insn);
  for (size_t i = 0; i < n; i++) {
    event(event_stream, "insn", (void *) insn[i].address);
    print(print_stream, "%s\t\t%s", insn[i].mnemonic, insn[i].op_str);
    event(event_stream, "/insn", (void *) (insn[i].address + insn[i].size));
    if (newline) print(print_stream, "\n");
  }
  if (n) cs_free(insn, n);
  cs_close(&cs);
  return 0;
}
C
gcc -O2 -shared -fPIC "$dir/hsdis.c" -o "$dir/hsdis-amd64.so" -lcapstone
install -m 644 "$dir/hsdis-amd64.so" "$JAVA_HOME/lib/server/hsdis-amd64.so"
echo "installed $JAVA_HOME/lib/server/hsdis-amd64.so"
