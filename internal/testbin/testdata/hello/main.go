// Command hello is the smallest command testbin's tests build.
package main

import "fmt"

var greeting = "hello"

func main() { fmt.Println(greeting) }
