/* vs-collect-dump.c - to be written */
int main(void) { return 1; }
