#include <cstdio>
int main() { std::puts("scangate: under construction"); return 2; }
