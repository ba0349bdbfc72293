<?php
// Legacy pricing rules. migrate_php.cpp replaces this file's one function with C++.

/** The gross price in cents of a net price in cents, with the country's VAT, rounded half up. */
function price_with_tax($net_cents, $country)
{
    $rates = ['DE' => 19, 'FR' => 20, 'LU' => 17];
    $rate = $rates[$country] ?? 0;
    return intdiv($net_cents * (100 + $rate) + 50, 100);
}
