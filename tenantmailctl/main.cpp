#include <cstdio>
int main() { std::puts("tenantmailctl " TM_VERSION); return 0; }
