#!/usr/bin/env python3
"""A program written for python-bond 1.4 (the earlier host), unchanged: with clients/python
installed, its `bond` module runs it on bondd."""
from bond import make_bond, RemoteException

php = make_bond('PHP')
php.eval_block('echo "Hello world!\n";')

split = php.callable('explode')
print(split(' ', "Hello world splitted by PHP!"))

def call_me():
    print("Hi, this is Python talking!")
php.export(call_me)
php.eval('call_me()')

perl = make_bond('Perl')
php.proxy('explode', perl)
print(perl.eval('explode("=", "Mind=blown!")'))

py = make_bond('Python')
try:
    py.eval('1 / 0')
except RemoteException as error:
    print("Python raised %r" % (error.data,))
