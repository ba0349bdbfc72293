<?php
// A legacy shopping cart: an object with state and methods. migrate_php.cpp keeps one in PHP and
// uses it from C++ through its methods, and orders its lines with callbacks of other languages.

class Cart
{
    private array $lines = [];
    public string $country;

    public function __construct(string $country)
    {
        $this->country = $country;
    }

    /** Adds a line; returns how many lines the cart has. */
    public function add(string $item, int $net_cents, int $quantity = 1): int
    {
        $this->lines[] = ['item' => $item, 'net_cents' => $net_cents, 'quantity' => $quantity];
        return count($this->lines);
    }

    /** Orders the lines with $compare($a, $b), any PHP callable. */
    public function sortLines(callable $compare): void
    {
        usort($this->lines, $compare);
    }

    public function text(): string
    {
        return invoice_text($this->lines, $this->country);
    }
}
