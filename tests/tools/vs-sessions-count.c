/* vs-sessions-count.c - to be written */
int main(void) { return 1; }
