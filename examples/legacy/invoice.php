<?php
// Legacy invoicing: knows nothing of C++, and calls price_with_tax() by its name, directly and
// as a callback.

function invoice_total(array $lines, $country)
{
    $total = 0;
    foreach ($lines as $line) {
        $total += price_with_tax($line['net_cents'], $country) * $line['quantity'];
    }
    return $total;
}

function invoice_text(array $lines, $country)
{
    $gross = array_map(fn($line) => price_with_tax($line['net_cents'], $country), $lines);
    $text = '';
    foreach ($lines as $i => $line) {
        $text .= sprintf("%-12s %3d x %8.2f\n", $line['item'], $line['quantity'], $gross[$i] / 100);
    }
    return $text . sprintf("%-12s       %8.2f\n", 'total', invoice_total($lines, $country) / 100);
}
