#!/usr/bin/env python3
"""Writes the uart_an3155 seeds that reach the USART target (target_an3155.c) behind a connect: the
chip's side of connect (from the committed f100-connect / l151-connect seeds, themselves from the
byte logs in ../shared/data/uart), then the answers a well-behaving chip gives to the harness's
requests in order, so the fuzzer starts deep (regions, identity, reads and writes over blocks).
Run again after changing the order of requests in fuzz_an3155.c."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, '..', 'corpus', 'uart_an3155')
ACK = b'\x79'


def read(n, fill):
    return ACK * 3 + bytes([fill]) * n


def write():
    return ACK * 3


def session(connect, flash_kb):
    b = connect
    b += read(256, 0xFF) + write() + ACK * 2            # protocol level: read, write, erase pages
    b += read(2, 0)[:-2] + bytes([flash_kb & 0xFF, flash_kb >> 8])  # flash-size register
    b += read(8, 0x31) + read(4, 0x32)                 # UID, two reads
    b += read(256, 0xA5) + read(256, 0xA5) + read(88, 0xA5)        # 600 bytes over three blocks
    b += write() * 3 + ACK * 2 + ACK * 2               # 600 bytes written, pages erased, mass erase
    b += ACK + ACK + b'\x01\x04\x10' + ACK             # reconnect: 0x7F answered, Get ID
    b += ACK * 2                                       # go
    return b


for name, connect_len, kb in (('f100', 0x19, 16), ('l151', 0x1A, 128)):
    with open(os.path.join(CORPUS, name + '-connect'), 'rb') as f:
        connect = f.read()[:connect_len]
    with open(os.path.join(CORPUS, name + '-target-session'), 'wb') as f:
        f.write(session(connect, kb))
print('wrote 2 seeds')
