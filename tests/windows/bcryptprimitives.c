/*
** Test-only stand-in for Windows 10's bcryptprimitives.dll, for Wine 8.0, which lacks it.
** Rust's standard library (1.78 and later) imports ProcessPrng from that DLL to seed its hash
** maps; without the DLL our module does not load at all. This provides ProcessPrng over
** advapi32's RtlGenRandom (SystemFunction036), the generator Rust used before.
** Built by tests/windows/build with mingw; never shipped: Windows 10 and later have the real one.
*/
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE; /* as on Windows, where ProcessPrng never fails */
}
