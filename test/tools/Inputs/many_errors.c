/* A syntax error on line 5, then more errors than clang reports before it stops. */
int ok(void);
int more(void);
int f(void) {
  int x = ;
  undeclared_0 = 1;
  undeclared_1 = 1;
  undeclared_2 = 1;
  undeclared_3 = 1;
  undeclared_4 = 1;
  undeclared_5 = 1;
  undeclared_6 = 1;
  undeclared_7 = 1;
  undeclared_8 = 1;
  undeclared_9 = 1;
  undeclared_10 = 1;
  undeclared_11 = 1;
  undeclared_12 = 1;
  undeclared_13 = 1;
  undeclared_14 = 1;
  undeclared_15 = 1;
  undeclared_16 = 1;
  undeclared_17 = 1;
  undeclared_18 = 1;
  undeclared_19 = 1;
  undeclared_20 = 1;
  undeclared_21 = 1;
  undeclared_22 = 1;
  undeclared_23 = 1;
  undeclared_24 = 1;
  undeclared_25 = 1;
  undeclared_26 = 1;
  undeclared_27 = 1;
  undeclared_28 = 1;
  undeclared_29 = 1;
  return x;
}
