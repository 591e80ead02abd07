package main

import "github.com/spf13/cobra"

func newShowCmd() *cobra.Command    { return &cobra.Command{Use: "show", Hidden: true} }
func newConvertCmd() *cobra.Command { return &cobra.Command{Use: "convert", Hidden: true} }
