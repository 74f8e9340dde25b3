# Guest check of examples/printk-6.1.patch, run as `sh check.sh original|applied|reverted`
# (ksplice-qemu --update, npm run demo, test/corpus/corpus.test.ts): the article's proof,
# `dmesg | tail -n2`. Applied: the engine's own success line comes through the new _printk, so
# it is preceded by "Quoth the kernel:". Reverted: the reversal line, and no prefix before it.
case "$1" in
original) ! dmesg | grep -q "Quoth the kernel:" ;;
applied)  dmesg | tail -n2; dmesg | tail -n2 | tr '\n' ' ' | grep -q "Quoth the kernel: .*applied successfully" ;;
reverted) dmesg | tail -n2; dmesg | tail -n1 | grep -q "reversed successfully" && ! dmesg | tail -n2 | grep -q "Quoth the kernel:" ;;
*) echo "unknown phase $1"; exit 2 ;;
esac
