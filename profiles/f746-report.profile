# The report this project answers (shared/data/cubeprog/st-community_F746_option-bytes-upload-fails_24MHz-HSE.txt):
# a custom STM32F746 board whose ROM lists in STM32CubeProgrammer, then fails on the first upload
# ("Uploading Option Bytes bank: 0 failed"), on some boards and some days.
#
# The model (protocol.md 4.2-4.3): the ROM measures the HSE crystal against its HSI. With the board's
# 25 MHz oscillator and the HSI 2 % slow (inside its range over temperature, outside the 1 % band
# AN2606 relies on), the ROM takes the crystal for 26 MHz and sets the PLL for it: the USB clock runs
# about 3.8 % slow, 15 times the 0.25 % full speed allows. Short requests mostly pass; long data
# stages fail. `stm32dfu --sim=f746-report doctor` should name the clock as the cause.
base = f746
name = f746-report
hse = 25000000
hsi_error = -2
seed = 1
# Another board than profiles/f746, so another chip: its own UID (made up, as the F746's is), so
# that what is remembered per board (doctor's link verdict, recovery files) stays with it.
uid = 00470035 3436510D 31383138
