#include <cstdio>
int main() { std::puts("scangate-webhook: not built yet (see issue 6)"); return 2; }
