//go:build tools

// Package tools pins the OpenTofu CLI that scripts/setup builds when no
// terraform binary is on PATH.
package tools

import _ "github.com/opentofu/opentofu/cmd/tofu"
