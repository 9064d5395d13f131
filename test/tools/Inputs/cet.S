/* An assembly source, as fwupd's plugins/cpu/fu-cpu-helper-cet-common.S: meson lists
 * it in compile_commands.json; clang-tidy cannot parse it as C. */
	.text
	.globl	cet_testfn1
	.type	cet_testfn1, %function
cet_testfn1:
	movq	(%rsp), %rax
	addq	$8, %rsp
	jmp	*%rax
	.size	cet_testfn1, .-cet_testfn1
	.section	.note.GNU-stack,"",%progbits
